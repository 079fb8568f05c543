# SPDX-License-Identifier: BSD-3-Clause
# The slow-consumer scenario's plot (tools/scenario.py writes the CSV):
#   gnuplot -e "csv='build/scenario.csv'; out='build/scenario.png'" tools/scenario.gp
# CSV columns: 1 t_s, 2 tick, 3 offered/s, 4 admitted/s, 5 lag,
# 6 severity (0..3), 7 effective rate/s, 8 breaker (0 closed, 1 half-open,
# 2 open), 9 recovering (0/1). Lines starting with # are comments.
if (!exists("csv")) csv = "build/scenario.csv"
if (!exists("out")) out = "build/scenario.png"

set datafile separator ","
set datafile commentschars "#"
set terminal pngcairo size 1200,900 font "DejaVu Sans,10"
set output out

stats csv using 1 nooutput
tmax = STATS_max

set multiplot layout 3,1 title \
    "tidegate: a consumer slower than the gate (ring egress), then sped up"
set lmargin 12
set rmargin 11
set xrange [0:tmax]
set grid xtics ytics lc rgb "#dddddd"
set key inside right top vertical opaque box lc rgb "#cccccc"

# -- rates, log scale: the climb back (x 1.2 a tick) is a straight line
set logscale y
set format y "10^{%L}"
set ylabel "messages/s"
set format x ""
set yrange [0.5:*]
plot csv using 1:($3 > 0 ? $3 : NaN) with lines lw 1.5 lc rgb "#999999" \
         title "offered", \
     csv using 1:7 with steps lw 2 lc rgb "#1f77b4" title "effective rate", \
     csv using 1:($4 > 0 ? $4 : NaN) with points pt 7 ps 0.5 \
         lc rgb "#d62728" title "admitted"

# -- lag, with the thresholds
unset logscale y
set format y "%g"
set yrange [0:*]
set ylabel "lag (ring backlog, messages)"
set arrow 1 from graph 0, first 5000 to graph 1, first 5000 nohead \
    dt 2 lc rgb "#e6a700"
set arrow 2 from graph 0, first 10000 to graph 1, first 10000 nohead \
    dt 2 lc rgb "#e66100"
set arrow 3 from graph 0, first 20000 to graph 1, first 20000 nohead \
    dt 2 lc rgb "#b2182b"
set arrow 4 from graph 0, first 1000 to graph 1, first 1000 nohead \
    dt 3 lc rgb "#2ca02c"
set label 1 "warning" at graph 1.005, first 5000 left font ",8"
set label 2 "critical" at graph 1.005, first 10000 left font ",8"
set label 3 "emergency" at graph 1.005, first 20000 left font ",8"
set label 4 "recover" at graph 1.005, first 1000 left font ",8"
set key inside right top
plot csv using 1:5 with lines lw 2 lc rgb "#6a3d9a" title "ring backlog"
unset arrow
unset label

# -- severity and breaker
set yrange [-0.3:3.3]
set ytics ("normal" 0, "warning" 1, "critical" 2, "emergency" 3)
set ylabel "severity"
set format x "%g"
set xlabel "time since the consumer fell behind (s)"
set key inside right center
plot csv using 1:6 with steps lw 2 lc rgb "#b2182b" title "severity", \
     csv using 1:($8 == 2 ? 3.15 : NaN) with points pt 5 ps 0.4 \
         lc rgb "#000000" title "breaker open", \
     csv using 1:($9 == 1 ? -0.15 : NaN) with points pt 5 ps 0.4 \
         lc rgb "#2ca02c" title "climbing back"
unset multiplot
