# budget.gp: the held-out task's accuracy against the wall time of the whole default run
# (pretraining, multitask training and evaluation), one point a budget (budget.sh).
#   gnuplot -e "data='budget.tsv'; out='budget.png'" pipelines/budget.gp
# data: multiplier, wall seconds, chance, held-out pretrained, held-out multitask, worst "vs trivial"
set terminal pngcairo size 800,480 noenhanced
set output out
set grid
set key top left
set title "held-out task (zero-shot) against the run's wall time"
set xlabel "wall time of make train-mixture (minutes)"
set ylabel "accuracy, median over prompts (%)"
set yrange [0:100]
set xrange [0:*]
plot data using ($2 / 60):5 with linespoints lw 2 pt 7 title "multitask model", \
     data using ($2 / 60):4 with linespoints lw 2 pt 6 title "pretrained only", \
     data using ($2 / 60):3 with lines dt 2 lw 2 title "chance", \
     data using ($2 / 60):($3 + 15) with lines dt 3 lw 2 title "goal: chance + 15"
