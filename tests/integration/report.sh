#!/bin/bash
# Integration: `vtbench report` makes a self-contained page that a real
# browser (headless Chromium) renders without a console error.
. "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

R1="$T/r1.json"
run_vtb run --backend uml,kvm --accel tcg --workload startup,upload-no-write,roundtrip --transport serial,virtio-serial --size 256K --msg-size 64 --runs 2 --warmup 0 --json "$R1"
check "run uml and kvm exits 0 (rc=$RC: $(tail -n1 "$T/err"))" [ "$RC" -eq 0 ]
# Two files for the compare table, made from the real one: every sample
# three times (six a side, enough for p < 0.01) with uml's seconds set to
# 1.00 and 1.01 (so the host's noise cannot change the verdict), then in
# the second uml 30 % slower, the kvm cell failed with an error that is
# also an attempt at markup, and a hostile host name.
jq '.results[].samples |= (. + . + .)
    | (.results[] | select(.backend == "uml") | .samples) |=
	(to_entries | map(.value.seconds = 1 + 0.01 * (.key % 2) | .value))' "$R1" >"$T/base.json"
jq '(.results[] | select(.backend == "uml") | .samples[]) |= (.seconds *= 1.3)
    | (.results[] | select(.backend == "kvm") | .samples[]) |= (.ok = false | .error = "<script>alert(1)</script> & \"x\" <b>")
    | .host.cpu = "<img src=x onerror=alert(2)>"' "$T/base.json" >"$T/new.json"

# A file made by hand, so that every figure of the page is known: upload
# over virtio-serial at 500 MB/s on uml and 125 MB/s on kvm (4.0x), over
# the serial line at 1 MB/s on uml (500x below: a log axis) and failed on
# kvm; roundtrip latency 300 us on uml, 150 us on kvm (2.0x, a linear
# axis).  Each sample carries the engine's CPU attribution ("cpu"); in
# the kvm upload cell only the median sample's says "guest-CPU-bound".
jq -n '
def cpu($be; $verdict):
  {wall_s: 1.0, cores: 2, other_s: 0.05, idle_s: 0.6, system_s: 0.02,
   accounted_pct: 99.1,
   guest: {busy_pct: 95.0, iowait_pct: 0, steal_pct: 0, idle_pct: 5,
	   ctxt: 1234, intr: 567, mem_used_kib: 20000},
   memory: [{process: "qemu-system-x86", hwm_kib: 250000}],
   verdict: $verdict,
   threads: (if $be == "uml" then
     [{group: "vmm", process: "linux.uml", thread: "linux.uml", cpu_s: 0.62, wait_s: 0.01},
      {group: "guest-user", process: "uml-userspace", thread: "3 processes", cpu_s: 0.3, wait_s: 0.02},
      {group: "helper", process: "vtbench", thread: "vhost-user console", cpu_s: 0.2, wait_s: 0},
      {group: "vtbench", process: "vtbench", thread: "vtbench", cpu_s: 0.05, wait_s: 0},
      {group: "vmm", process: "linux.uml", thread: "io thread", cpu_s: 0.03, wait_s: 0}]
    else
     [{group: "vmm", process: "qemu-system-x86", thread: "CPU 0/TCG", cpu_s: 0.97, wait_s: 0.01},
      {group: "vmm", process: "qemu-system-x86", thread: "qemu-system-x86", cpu_s: 0.12, wait_s: 0},
      {group: "vtbench", process: "vtbench", thread: "vtbench", cpu_s: 0.04, wait_s: 0},
      {group: "vmm", process: "qemu-system-x86", thread: "call_rcu", cpu_s: 0.01, wait_s: 0}]
    end)};
def s($be; $secs; $bytes; $verdict):
  {warmup: false, ok: true, seconds: $secs, bytes: $bytes, cpu: cpu($be; $verdict)};
def row($be; $tr; $wl; $msg; $samples):
  {backend: $be, driver: "direct", accel: (if $be == "kvm" then "tcg" else "-" end),
   transport: $tr, workload: $wl, cache: "-", msg_size: $msg,
   params: {runs: ($samples | length), msg_size: $msg},
   metrics: {latency_median_us: {unit: "us", higher_better: false}},
   samples: $samples};
{tool: "vtbench", schema: 1, results: [
  row("uml"; "virtio-serial"; "upload-no-write"; 0;
      [s("uml"; 1.0; 500000000; "VMM-bound: linux.uml 62 % (guest 95 % busy)")]),
  row("uml"; "serial"; "upload-no-write"; 0;
      [s("uml"; 1.0; 1000000; "VMM-bound: linux.uml 62 % (guest 95 % busy)")]),
  row("uml"; "virtio-serial"; "roundtrip"; 64;
      [s("uml"; 1.0; 1000; "VMM-bound: linux.uml 62 % (guest 95 % busy)")
       + {metrics: {latency_median_us: 300}}]),
  row("kvm"; "virtio-serial"; "upload-no-write"; 0;
      [{warmup: true, ok: true, seconds: 4.0, bytes: 500000000,
	cpu: cpu("kvm"; "not the median: a warm-up")},
       s("kvm"; 5.0; 500000000; "not the median: the slowest"),
       s("kvm"; 4.0; 500000000; "guest-CPU-bound: CPU 0/TCG 97 % (guest 95 % busy)"),
       s("kvm"; 3.0; 500000000; "not the median: the fastest")]),
  row("kvm"; "serial"; "upload-no-write"; 0;
      [{warmup: false, ok: false, seconds: 0, bytes: 0,
	error: "stalled: no progress for 2 s <b>"}]),
  row("kvm"; "virtio-serial"; "roundtrip"; 64;
      [s("kvm"; 1.0; 1000; "guest-CPU-bound: CPU 0/TCG 97 % (guest 95 % busy)")
       + {metrics: {latency_median_us: 150}}
       | .cpu.threads += [{group: "x\u0027 onmouseover=\u0027alert(3)",
			   process: "<i>p</i>", thread: "<script>t</script>",
			   cpu_s: 0.2, wait_s: 0}]])]}' >"$T/cpu.json"
jq 'del(.results[].samples[].cpu)' "$T/cpu.json" >"$T/nocpu.json"
run_vtb report "$T/cpu.json" -o "$T/cpu.html"
check "report of a file with CPU attribution -> exit 0 (rc=$RC: $ERR)" [ "$RC" -eq 0 -a -s "$T/cpu.html" ]
run_vtb report "$T/nocpu.json" -o "$T/nocpu.html"
check "report of a file without -> exit 0 (rc=$RC: $ERR)" [ "$RC" -eq 0 -a -s "$T/nocpu.html" ]
for page in cpu nocpu; do
	H="$T/$page.html"
	check "$page: the comparison first, a column per backend" grep -q "^<table class='cmp'><tr><th>measured</th><th class='col'>uml</th><th class='col'>kvm/direct/tcg</th><th>ratio</th></tr>" "$H"
	check "$page: ... before the charts" [ "$(grep -n "<table class='cmp'>" "$H" | cut -d: -f1)" -lt "$(grep -n "<svg class='chart" "$H" | head -n1 | cut -d: -f1)" ]
	check "$page: the medians, the ratio" grep -q "<th class='what'>virtio-serial upload-no-write<br><span class='note'>throughput_MBps, higher is better</span></th><td class='cell'><span class='med'>500 MB/s</span>.*<span class='med'>125 MB/s</span>.*<td class='ratio'>uml 4.0× faster than kvm/direct/tcg</td>" "$H"
	check "$page: latency, lower is better" grep -q "<th class='what'>virtio-serial roundtrip 64B<br><span class='note'>latency_median_us, lower is better</span></th><td class='cell'><span class='med'>300 µs</span>.*<span class='med'>150 µs</span>.*<td class='ratio'>kvm/direct/tcg 2.0× faster than uml</td>" "$H"
	check "$page: a failed cell shows its error, no ratio" grep -q "<th class='what'>serial upload-no-write<br>.*<span class='med'>1.00 MB/s</span>.*<td class='failed'>failed: stalled: no progress for 2 s &lt;b&gt;</td><td class='ratio'>-</td>" "$H"
	check "$page: 500x apart: a log axis" grep -q "<h3>throughput_MBps (MB/s, higher is better, log scale)</h3>" "$H"
	check "$page: ... drawn as one" [ -n "$(grep -A1 "<h3>throughput_MBps" "$H" | grep "<svg class='chart log'.*MB/s, log scale</text>")" ]
	check "$page: 2x apart: linear" grep -q "<h3>latency_median_us (µs, lower is better)</h3>" "$H"
	check "$page: ... drawn as one" [ -n "$(grep -A1 "<h3>latency_median_us" "$H" | grep "<svg class='chart linear'")" ]
done
H="$T/cpu.html"
# uml's 0.62 of 2 CPU seconds is 31 %; kvm's 0.04 + 0.01 merged (< 5 %).
check "cpu: a stacked bar per cell that ran" [ "$(grep -o "<svg class='cpu'" "$H" | wc -l)" -eq 5 ]
check "cpu: a segment per busy thread, with its figures" grep -q "<rect class='seg g-vmm' x='0.0' y='0' width='93.0' height='20' fill='#4e79a7'><title>linux.uml (linux.uml, vmm): 0.62 s = 31.0 % of 2 cores × 1 s</title></rect><text x='3.0' y='14' class='seg'>linux.uml 31%</text>" "$H"
check "cpu: guest user, helper, idle too" [ -n "$(grep "class='seg g-guest-user'" "$H")" -a -n "$(grep "class='seg g-helper'" "$H")" -a -n "$(grep "class='seg g-idle'" "$H")" ]
check "cpu: the small threads merged" grep -q "<title>others &lt; 5 % (2 threads): 0.05 s = 2.5 % of 2 cores" "$H"
check "cpu: a legend" grep -q "<p class='cpukey note'>Host CPU in each cell" "$H"
check "cpu: the median sample's verdict" grep -q "<span class='med'>125 MB/s</span>.*<div class='cpuverdict'>guest-CPU-bound: CPU 0/TCG 97 % (guest 95 % busy)</div>" "$H"
check "cpu: no other sample's" [ -z "$(grep 'not the median' "$H")" ]
check "cpu: a group unknown to the report, grey" grep -q "<rect class='seg g-unknown' [^>]*fill='#888888'><title>&lt;script&gt;t&lt;/script&gt; (&lt;i&gt;p&lt;/i&gt;, x&#39; onmouseover=&#39;alert(3)): 0.2 s = 10.0 %" "$H"
check "cpu: ... its strings escaped" [ -z "$(grep -e '<script>t' -e "x' onmouseover" -e '<i>p' "$H")" ]
H="$T/nocpu.html"
check "nocpu: no bar, no verdict, no legend" [ -z "$(grep -e "<svg class='cpu'" -e "class='cpuverdict'" -e 'Host CPU in each' "$H")" ]

run_vtb report "$R1" -o "$T/one.html"
check "report of one file -> exit 0 (rc=$RC: $ERR)" [ "$RC" -eq 0 -a -s "$T/one.html" ]
run_vtb report "$T/base.json" "$T/new.json" -o "$T/two.html"
check "report of two files -> exit 0 (rc=$RC: $ERR)" [ "$RC" -eq 0 -a -s "$T/two.html" ]

for page in one two; do
	H="$T/$page.html"
	check "$page: inline SVG charts" [ "$(grep -c '<svg' "$H")" -ge 2 ]
	# Self-contained: no URL but data: in any src/href, no script at all.
	check "$page: fetches nothing" [ -z "$(grep -Eo "(src|href|xlink:href)=['\"][^'\"]*" "$H" | grep -v "=['\"]data:")" ]
	check "$page: no script" [ -z "$(grep -i '<script' "$H")" ]
	check "$page: a phase timeline" grep -q 'kernel_to_init' "$H"
	check "$page: UML and KVM cells" grep -q 'kvm/direct/tcg startup' "$H"
	check "$page: ... UML's too" grep -q '>uml startup<' "$H"
done
check "two: the compare table" grep -q "<td>uml startup</td><td>seconds</td>.*+30.0 %" "$T/two.html"
check "two: the failed cell is a regression" grep -q "<tr class='reg'><td>kvm/direct/tcg startup</td>.*FAILED" "$T/two.html"
check "two: the slower cell a regression, coloured" grep -q "<tr class='reg'><td>uml startup</td><td>seconds</td>.*<td class='num worse'>+30.0 %" "$T/two.html"
check "two: the hostile strings escaped" grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &lt;b&gt;' "$T/two.html"
check "two: the hostile host escaped" grep -q '&lt;img src=x onerror=alert(2)&gt;' "$T/two.html"

# Bad input: one line, exit 2.
run_vtb report "$R1"
check "no -o -> exit 2, one line (rc=$RC: $ERR)" [ "$RC" -eq 2 -a "$(printf '%s\n' "$ERR" | grep -c .)" -eq 1 ]
echo '{"schema": 1}' >"$T/bad.json"
run_vtb report "$T/bad.json" -o "$T/bad.html"
check "not a vtbench file -> exit 2 (rc=$RC: $ERR)" [ "$RC" -eq 2 -a ! -e "$T/bad.html" ]

# A real browser: a screenshot that is not blank, a DOM with the charts,
# and not one console message.
if [ -z "$CHROMIUM" ]; then
	not_ok "chromium is not installed (./bootstrap installs it)"
	finish
fi
browse() { # browse PAGE OUTPUT-ARGS...: chromium in its own profile
	local page=$1
	shift
	mkdir -p "$T/chr-home" "$T/chr-tmp"
	rm -rf "$T/chr-profile"
	HOME="$T/chr-home" TMPDIR="$T/chr-tmp" timeout -s KILL 120 \
		"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$T/chr-profile" \
		--enable-logging=stderr --v=0 --window-size=1200,1600 \
		"$@" "file://$page"
}
for page in one two cpu nocpu; do
	H="$T/$page.html"
	browse "$H" --screenshot="$T/$page.png" --dump-dom >"$T/$page.dom" 2>"$T/chr.err"
	check "$page: chromium took a screenshot" [ -s "$T/$page.png" ]
	# A blank 1200x1600 page compresses to under 10 KB, a line of text to
	# about 14 KB; charts and tables make it far bigger.
	SIZE=$(stat -c %s "$T/$page.png" 2>/dev/null || echo 0)
	check "$page: the screenshot is not blank ($SIZE bytes)" [ "$SIZE" -gt 20000 ]
	check "$page: the rendered DOM has the title and the charts" [ -n "$(grep 'vtbench report' "$T/$page.dom")" -a "$(grep -c '<svg' "$T/$page.dom")" -ge 2 ]
	check "$page: ... and the comparison" grep -q "<table class=\"cmp\">" "$T/$page.dom"
	# to look at: VTB_SCREENSHOTS=DIR keeps them
	[ -n "${VTB_SCREENSHOTS:-}" ] && cp "$T/$page.png" "$VTB_SCREENSHOTS/report-$page.png"
	check "$page: no console message: $(grep CONSOLE "$T/chr.err" | head -n1)" [ -z "$(grep CONSOLE "$T/chr.err")" ]
done
finish
