# heldout.gp: the multitask stage's loss beside the held-out task's accuracy at each checkpoint.
#   gnuplot -e "loss='loss.dat'; acc='heldout.tsv'; task='wordnet_antonyms'; out='heldout.png'" pipelines/heldout.gp
# loss: step <TAB> loss; acc: step <TAB> median accuracy (%) <TAB> chance (%), step 0 the
# pretrained model before multitask training.
set terminal pngcairo size 1200,480 noenhanced
set output out
set multiplot layout 1,2
set grid
set key off
set title "multitask training loss"
set xlabel "step"
set ylabel "loss per target slot"
plot loss using 1:2 with lines lw 2
set title sprintf("%s, held out (zero-shot)", task)
set ylabel "accuracy, median over prompts (%)"
set yrange [0:100]
set key top left
plot acc using 1:2 with linespoints lw 2 pt 7 title "model (step 0: pretrained only)", \
     acc using 1:3 with lines dt 2 lw 2 title "chance"
unset multiplot
