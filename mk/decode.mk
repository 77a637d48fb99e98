# t0-decode (tools/t0-decode.c, lib/generate): tests/decode.bats runs -i under tmux.
DEB_PACKAGES += tmux
