# loss.gp: the training loss curve. gnuplot -e "in='loss.dat'; out='loss.png'" pipelines/loss.gp
# in: three columns, step, loss and ce_per_target_token (the pipeline cuts them from t0-step's log).
set terminal pngcairo size 900,540 noenhanced
set output out
set title "training loss"
set xlabel "step"
set ylabel "loss"
set grid
set key top right
plot in using 1:2 with lines lw 2 title "T0's loss: cross-entropy over the target slots, + z-loss", \
     in using 1:3 with lines title "cross-entropy per real target token (transformers' loss)"
