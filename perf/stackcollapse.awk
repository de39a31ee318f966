#!/usr/bin/awk -f
# Folds `perf script` output (perf record -g) into one line per distinct stack:
#   thread;outermost;...;innermost COUNT
# the input of perf/flamegraph.awk (the format of Brendan Gregg's stackcollapse-perf.pl).
function flush(   s, i) {
  if (n == 0 && comm == "") return
  s = comm
  for (i = n; i >= 1; i--) s = s ";" frame[i]   # perf prints the innermost frame first
  folded[s] += period ? period : 1
  n = 0; comm = ""
}
/^[^ \t]/ {                      # header: comm pid [cpu] time: period event:
  flush()
  comm = $1
  gsub(/;/, ":", comm)
  period = 1
  next
}
/^[ \t]+[0-9a-f]+ / {            # frame: address symbol+offset (dso)
  sym = $2
  for (i = 3; i <= NF && $i !~ /^\(/; i++) sym = sym " " $i   # C++ names contain spaces
  sub(/\+0x[0-9a-f]+$/, "", sym)
  if (sym == "[unknown]") {           # no symbol: name the library instead, if perf knows it
    dso = $NF; gsub(/[()]/, "", dso); sub(/.*\//, "", dso)
    sym = dso == "[unknown]" ? dso : "[" dso "]"
  }
  gsub(/;/, ":", sym)
  frame[++n] = sym
  next
}
/^$/ { flush() }
END { flush(); for (s in folded) print s, folded[s] }
