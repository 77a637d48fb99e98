# t0-step (lib/train/): --plot draws the loss curve with gnuplot.
DEB_PACKAGES += gnuplot-nox
