# t0-pack: its memory test measures peak RSS with GNU time (/usr/bin/time -f %M).
DEB_PACKAGES += time
