# Data parallelism over MPI (lib/train/dist.c, t0-step under mpirun) and evaluation across
# hosts over ssh (tests/ssh.bats: sshd on 127.0.0.1; GNU parallel ships files with rsync).
DEB_PACKAGES += openmpi-bin libopenmpi-dev openssh-server openssh-client rsync

# MPI's flags from pkg-config's "mpi-c" (Debian's alternative for the default MPI: Open MPI,
# or MPICH where that is chosen). Only lib/train/dist.o is compiled with them, and only the
# programs that call dist_* link MPI: libt0.a is a static archive, so a program that never
# names a dist_* function never pulls dist.o in, and t0-cat, t0-tokenize, ... stay free of
# libmpi. Without MPI's development files dist.c builds as the single-process layer.
MPI_CFLAGS := $(shell pkg-config --cflags mpi-c 2>/dev/null)
MPI_LIBS := $(shell pkg-config --libs mpi-c 2>/dev/null)
ifneq ($(MPI_LIBS),)
$(BUILD)/lib/train/dist.o: CFLAGS += -DT0_MPI $(MPI_CFLAGS)
$(BIN)/t0-step $(BUILD)/tests/test_dist: LDLIBS += $(MPI_LIBS)
endif
$(BUILD)/lib/train/dist.o: mk/mpi.mk

# tests/mpi.bats runs the unit test program under mpirun: `make bats` builds it too.
bats: $(BUILD)/tests/test_dist

# tests/tools/st_update_diff: compares two runs' weight updates tensor by tensor (tests/mpi.bats).
UPDATE_DIFF = $(BUILD)/tests/st_update_diff
$(UPDATE_DIFF): tests/tools/st_update_diff.c $(LIBT0)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBT0) $(LDLIBS)
check bats: $(UPDATE_DIFF)

# bench/dist_bench: the gradient sum's time under mpirun (bench/bench-mpi.sh).
ifneq ($(MPI_LIBS),)
$(BUILD)/bench/dist_bench: LDLIBS += $(MPI_LIBS)
endif
