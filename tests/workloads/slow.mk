# slow.mk - a make -j2 of slow rules, for the make test of attach --tree.
#
# Four rules each append 1..N to log.RULE, one line every 50 ms (a sleep
# child each time), so that at dump time make, two shells and their
# sleeps are running and the jobserver pipe holds make's tokens. After
# restore every log must hold 1..N exactly once. The first rule writes
# D/ready with make's PID (the shell's parent).
N := 50

all: a b c d
	@echo done >>log.all

a b c d: ready
	@i=0; while [ $$i -lt $(N) ]; do \
		i=$$((i + 1)); echo $$i >>log.$@; sleep 0.05; \
	done

ready:
	@echo $$PPID >ready.tmp && mv ready.tmp ready
