# bash completion for ckpt(1) and restore(1).
#
# Installed as .../bash-completion/completions/ckpt and .../restore. The
# commands and their options are read from the programs' own usage lines
# (`ckpt --help`, `ckpt COMMAND --help`), so that they are those of the
# ckpt installed; PIDs come from /proc, images and other paths from the
# file system.

# _ckpt_opts PROG [COMMAND]: the long and short options its usage names.
_ckpt_opts()
{
	"$@" --help 2>&1 | grep '^usage:' | grep -oE -- '--?[A-Za-z][A-Za-z0-9-]*' |
		sort -u
}

# _ckpt_pids: the PIDs of the processes this user may see, but ours.
_ckpt_pids()
{
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $p != "$$" && $p != "$BASHPID" ]] && printf '%s\n' "$p"
	done
}

# What the option before the word takes: a file, a directory, a number.
_ckpt_optarg()
{
	case $1 in
	-o | --output | -e | --encrypt | -k | --key | --auth | --fd | \
	--console-socket)
		COMPREPLY=($(compgen -f -- "$2"))
		return 0 ;;
	-D | --dir | --runc-root)
		COMPREPLY=($(compgen -d -- "$2"))
		return 0 ;;
	--state)
		COMPREPLY=($(compgen -f -- "$2"))
		return 0 ;;
	--quorum | --ghost-limit | --interval | --keep | --name | --listen | \
	--max-clients | --client-timeout | --coord | --job | --member | \
	--kind-arg | --timeout | --site)
		return 0 ;;	# a value of the user's: nothing to offer
	esac
	return 1
}

_ckpt()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} cmd="" i

	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-v -q --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$("$prog" --help 2>&1 |
				awk '$1 == "ckpt" { print $2 }')" -- "$cur"))
		fi
		return 0
	fi
	_ckpt_optarg "$prev" "$cur" && return 0
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_ckpt_opts "$prog" "$cmd")" -- "$cur"))
		return 0
	fi
	case $cmd in
	attach | sym)
		# the PID first; sym's symbol after it is the user's
		[[ $cmd == sym && $prev =~ ^[0-9]+$ ]] && return 0
		COMPREPLY=($(compgen -W "$(_ckpt_pids)" -- "$cur")) ;;
	migrate)	# the PID, then tcp://HOST:PORT/NAME (the user's)
		[[ $prev =~ ^[0-9]+$ ]] && return 0
		COMPREPLY=($(compgen -W "$(_ckpt_pids)" -- "$cur")) ;;
	run)
		COMPREPLY=($(compgen -c -- "$cur")) ;;
	serve | check | keygen)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	dump)
		COMPREPLY=($(compgen -d -- "$cur")) ;;
	job)	# the action, then the job's name (the user's)
		[[ $prev == job ]] && COMPREPLY=($(compgen -W \
			"checkpoint status restart list" -- "$cur")) ;;
	coord)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	container)	# the action; then runc's container name, the image
		if [[ $prev == container ]]; then
			COMPREPLY=($(compgen -W "checkpoint restore" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	*)	# restore, inspect, convert: images, then files
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
	return 0
}

_restore()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}

	COMPREPLY=()
	_ckpt_optarg "$prev" "$cur" && return 0
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_ckpt_opts "${COMP_WORDS[0]}")" \
			-- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
	return 0
}

complete -F _ckpt -o filenames ckpt
complete -F _restore -o filenames restore
