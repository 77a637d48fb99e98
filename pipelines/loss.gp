# loss.gp: the training loss curve. gnuplot -e "in='loss.dat'; out='loss.png'" pipelines/loss.gp
# in: two columns, step and loss (the pipeline cuts them from t0-step's log).
set terminal pngcairo size 900,540 noenhanced
set output out
set title "training loss"
set xlabel "step"
set ylabel "loss (t0-step: target cross-entropy over the target slots, + z-loss)"
set grid
set key off
plot in using 1:2 with lines lw 2
