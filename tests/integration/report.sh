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
		"$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$T/chr-profile" \
		--enable-logging=stderr --v=0 --window-size=1200,1600 \
		"$@" "file://$page"
}
for page in one two; do
	H="$T/$page.html"
	browse "$H" --screenshot="$T/$page.png" --dump-dom >"$T/$page.dom" 2>"$T/chr.err"
	check "$page: chromium took a screenshot" [ -s "$T/$page.png" ]
	# A blank 1200x1600 page compresses to under 10 KB, a line of text to
	# about 14 KB; charts and tables make it far bigger.
	SIZE=$(stat -c %s "$T/$page.png" 2>/dev/null || echo 0)
	check "$page: the screenshot is not blank ($SIZE bytes)" [ "$SIZE" -gt 20000 ]
	check "$page: the rendered DOM has the title and the charts" [ -n "$(grep 'vtbench report' "$T/$page.dom")" -a "$(grep -c '<svg' "$T/$page.dom")" -ge 2 ]
	check "$page: no console message: $(grep CONSOLE "$T/chr.err" | head -n1)" [ -z "$(grep CONSOLE "$T/chr.err")" ]
done
finish
