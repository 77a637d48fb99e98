# t0-render: bench/bench-render.sh measures with GNU time (peak RSS) and bc.
DEB_PACKAGES += time bc
