#!/usr/bin/awk -f
# Draws a flame graph (SVG) from folded stacks ("a;b;c COUNT" per line, sorted), after the
# algorithm of Brendan Gregg's flamegraph.pl: a box per frame, as wide as its share of the
# samples, callers below callees. Hover a box for its name and share.
#   sort folded.txt | awk -f perf/flamegraph.awk -v title="..." > flame.svg
BEGIN { W = 1200; FH = 16; PAD = 10; if (title == "") title = "Flame graph" }
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
function color(name,   h, i, c) {
  h = 0
  for (i = 1; i <= length(name) && i <= 12; i++) h = (h * 31 + index("abcdefghijklmnopqrstuvwxyz_:[]0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", substr(name, i, 1))) % 997
  c = (name ~ /^\[k\]|kernel|^[a-z_0-9]+$/) ? "orange" : "red"
  if (name ~ /^tt-|^iperf|^ping/) c = "grey"
  if (c == "grey") return sprintf("rgb(%d,%d,%d)", 180 + h % 40, 180 + h % 40, 190)
  if (c == "orange") return sprintf("rgb(%d,%d,%d)", 230, 130 + h % 80, 40 + h % 40)
  return sprintf("rgb(%d,%d,%d)", 220 + h % 35, 80 + h % 100, 60 + h % 30)
}
function close_frames(from,   d) {       # frames deeper than `from` end at `total`
  for (d = depth; d > from; d--) {
    nbox++; bname[nbox] = stack[d]; bdepth[nbox] = d; bstart[nbox] = start[d]; bend[nbox] = total
  }
  depth = from
}
{
  count = $NF; $NF = ""; sub(/ $/, "")
  nf = split($0, fr, ";")
  same = 0
  while (same < depth && same < nf && stack[same + 1] == fr[same + 1]) same++
  close_frames(same)
  for (d = same + 1; d <= nf; d++) { stack[d] = fr[d]; start[d] = total; depth = d; if (d > maxdepth) maxdepth = d }
  total += count
}
END {
  close_frames(0)
  if (total == 0) { print "flamegraph.awk: no samples" > "/dev/stderr"; exit 1 }
  H = (maxdepth + 1) * FH + 3 * PAD + 20
  printf "<?xml version=\"1.0\" standalone=\"no\"?>\n"
  printf "<svg version=\"1.1\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n", W + 2 * PAD, H
  printf "<style>text { font-family: monospace; font-size: 11px; } rect:hover { stroke: black; }</style>\n"
  printf "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"rgb(250,250,245)\"/>\n"
  printf "<text x=\"%d\" y=\"%d\" font-size=\"14px\">%s (%d samples)</text>\n", PAD, PAD + 12, esc(title), total
  for (i = 1; i <= nbox; i++) {
    x = PAD + bstart[i] / total * W
    w = (bend[i] - bstart[i]) / total * W
    if (w < 0.1) continue
    y = H - PAD - bdepth[i] * FH
    pct = 100 * (bend[i] - bstart[i]) / total
    printf "<g><title>%s (%d samples, %.2f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>", esc(bname[i]), bend[i] - bstart[i], pct, x, y, w, FH - 1, color(bname[i])
    chars = int(w / 7)
    if (chars >= 3) {
      label = bname[i]
      if (length(label) > chars) label = substr(label, 1, chars - 2) ".."
      printf "<text x=\"%.1f\" y=\"%d\">%s</text>", x + 3, y + FH - 4, esc(label)
    }
    printf "</g>\n"
  }
  printf "</svg>\n"
}
