#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0
"""check-log.py - judge a VM's serial log; write TAP; end with a summary.

  check-log.py LOG --name NAME --tap OUT.tap [--suite S]... [--scripts N]
               [--kunit-py PATH] [--allow REGEX]...

What fails:
  * a missing "MPOOL-VM: end rc=" marker (timeout, panic, hang);
  * any KUnit case that is not ok, or an expected suite (--suite) missing;
    the KTAP is parsed by the kernel's own tools/testing/kunit/kunit.py
    (--kunit-py) when given, else by the small parser below;
  * any "not ok" in the kselftest scripts' TAP (between MPOOL-TAP-BEGIN and
    MPOOL-TAP-END markers), a script that exited non-zero (4 is a skip), or
    fewer scripts than --scripts;
  * any kernel report: KASAN, KCSAN, lockdep, BUG:, WARNING:, Oops, panic,
    kmemleak, a call trace.  Once the job has ended ("MPOOL-VM: end") and
    the kernel powers off, a report with no mpool/mempool code in it is the
    kernel's own (KCSAN has caught races in its poweroff path) and is only
    printed.  A report whose first lines match an --allow
    regex is expected (the module's own misuse warning); one that falls in
    a window a test opened with "MPOOL-EXPECT-BEGIN REGEX" and closed with
    "MPOOL-EXPECT-END" is expected if it matches REGEX, and a window that
    saw no matching report fails; one that falls in a window opened with
    "MPOOL-ALLOW-BEGIN REGEX" and closed with "MPOOL-ALLOW-END" is allowed
    if it matches REGEX (a fault-injection test's allocation-failure
    warnings), and such a window may see none.

The results go to OUT.tap (one "ok"/"not ok" line per KUnit case, per
script result and per log check) for tools/tap-summary.sh, and the last
line printed is "N passed, N failed, N skipped".
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

REPORT = re.compile(
    r'(BUG: |WARNING: |Oops|Kernel panic|general protection fault|'
    r'possible circular locking|possible recursive locking|'
    r'INFO: possible irq lock inversion|inconsistent lock state|'
    r'suspicious RCU usage|kmemleak: \d+ new suspected|'
    r'UBSAN:|Call Trace:)')
END_OF_REPORT = re.compile(r'---\[ end trace|^=+$')


def split_log(lines):
    """Return (kernel and KUnit lines, {script: (tap lines, rc)})."""
    rest, scripts, cur, buf = [], {}, None, []
    for line in lines:
        m = re.search(r'MPOOL-TAP-BEGIN (\S+)', line)
        if m:
            cur, buf = m.group(1), []
            continue
        m = re.search(r'MPOOL-TAP-END (\S+) rc=(\d+)', line)
        if m and cur:
            scripts[cur] = (buf, int(m.group(2)))
            cur = None
            continue
        if cur:
            buf.append(line)
            # Kernel reports can land inside a script's output too.
            if REPORT.search(line):
                rest.append(line)
        else:
            rest.append(line)
    if cur:
        scripts[cur] = (buf, None)
    return rest, scripts


def kunit_with_tool(kunit_py, lines):
    """Parse KTAP with the kernel's kunit.py; return [(suite, case, st)]."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'log')
        out = os.path.join(tmp, 'out.json')
        with open(src, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        subprocess.run([sys.executable, kunit_py, 'parse', '--json=' + out,
                        src], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        if not os.path.exists(out):
            return None
        with open(out) as f:
            data = json.load(f)
    results = []

    def walk(group, suite):
        name = group.get('name', suite)
        for case in group.get('test_cases', []):
            results.append((name, case['name'], case['status']))
        for sub in group.get('sub_groups', []):
            walk(sub, name)
    walk(data, '')
    return results


def kunit_fallback(lines):
    """A minimal KTAP reader: cases are results nested one level down."""
    results, suite = [], None
    for line in lines:
        m = re.match(r'\s*# Subtest: (\S+)', line)
        if m:
            suite = m.group(1)
            continue
        m = re.match(r'(\s+)(not ok|ok) \d+ (\S+)(.*)', line)
        if m and suite:
            st = 'PASS' if m.group(2) == 'ok' else 'FAIL'
            if '# SKIP' in m.group(4):
                st = 'SKIPPED'
            results.append((suite, m.group(3), st))
    return results


def kernel_reports(lines, allow):
    """Return (unexpected reports, expect windows without their report)."""
    bad, missing = [], []
    window, seen, allowed = None, False, None
    after_end = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if 'MPOOL-VM: end rc=' in line:
            after_end = True
        m = re.search(r'MPOOL-EXPECT-BEGIN (.*)', line)
        if m:
            window, seen = re.compile(m.group(1).strip()), False
            i += 1
            continue
        m = re.search(r'MPOOL-ALLOW-BEGIN (.*)', line)
        if m:
            allowed = re.compile(m.group(1).strip())
            i += 1
            continue
        if 'MPOOL-ALLOW-END' in line:
            allowed = None
            i += 1
            continue
        if 'MPOOL-EXPECT-END' in line:
            if window is not None and not seen:
                missing.append(window.pattern)
            window = None
            i += 1
            continue
        if REPORT.search(line):
            # A report runs to its end-of-trace line (or 60 lines).
            j = i + 1
            while j < len(lines) and j < i + 60 and \
                    not END_OF_REPORT.search(lines[j]):
                j += 1
            head = '\n'.join(lines[max(0, i - 2):min(j + 1, i + 8)])
            body = '\n'.join(lines[i:j + 1])
            if after_end and not re.search(r'mpool|mempool', body):
                # The job is over and the kernel is powering off: a report
                # with none of our code in it is the kernel's own.
                print('check-log: ignored after the job ended: ' +
                      line.strip(), file=sys.stderr)
            elif window is not None and window.search(head):
                seen = True
            elif allowed is not None and allowed.search(head):
                pass
            elif not any(re.search(a, head) for a in allow):
                bad.append(line.strip())
            i = j + 1
            continue
        i += 1
    if window is not None and not seen:
        missing.append(window.pattern)
    return bad, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('log')
    ap.add_argument('--name', required=True)
    ap.add_argument('--tap', required=True)
    ap.add_argument('--suite', action='append', default=[])
    ap.add_argument('--scripts', type=int, default=0)
    ap.add_argument('--kunit-py')
    ap.add_argument('--allow', action='append', default=[])
    args = ap.parse_args()

    with open(args.log, errors='replace') as f:
        lines = [l.rstrip('\r\n') for l in f]
    rest, scripts = split_log(lines)
    out = []

    def result(ok, what, skip=None):
        tag = 'ok' if ok else 'not ok'
        out.append(f'{tag} {len(out) + 1} {args.name}: {what}' +
                   (f' # SKIP {skip}' if skip else ''))

    ended = any('MPOOL-VM: end rc=' in l for l in lines)
    result(ended, 'the VM ran its job to the end (no hang, panic or timeout)')

    if args.suite:
        res = None
        if args.kunit_py and os.path.exists(args.kunit_py):
            res = kunit_with_tool(args.kunit_py, rest)
        if not res:
            res = kunit_fallback(rest)
        suites = {s for s, _, _ in res}
        for s in args.suite:
            result(s in suites, f'KUnit suite {s} ran')
        for suite, case, st in res:
            if st in ('SKIPPED', 'SKIP'):
                result(True, f'{suite}.{case}', skip='skipped by the test')
            else:
                result(st == 'PASS', f'{suite}.{case}')

    for name, (tap, rc) in sorted(scripts.items()):
        for line in tap:
            m = re.match(r'(not ok|ok) \d+ (.*)', line.strip())
            if not m:
                continue
            text = m.group(2)
            if '# SKIP' in text:
                result(True, f'{name}: {text.split("# SKIP")[0].strip()}',
                       skip=text.split('# SKIP', 1)[1].strip())
            else:
                result(m.group(1) == 'ok', f'{name}: {text}')
        if rc == 4:
            result(True, f'{name}', skip='the script skipped')
        else:
            result(rc == 0, f'{name} exited {rc}')
    if args.scripts:
        result(len(scripts) >= args.scripts,
               f'{len(scripts)} of {args.scripts} scripts ran')

    bad, missing = kernel_reports(lines, args.allow)
    for b in bad:
        print(f'# unexpected kernel report: {b}')
    result(not bad, f'no unexpected kernel report ({len(bad)} found)')
    for m in missing:
        result(False, f'expected report {m!r} was not seen')

    with open(args.tap, 'w') as f:
        f.write(f'TAP version 13\n1..{len(out)}\n' + '\n'.join(out) + '\n')
    failed = [l for l in out if l.startswith('not ok')]
    skipped = [l for l in out if '# SKIP' in l]
    for l in failed:
        print(l)
    print(f'{len(out) - len(failed) - len(skipped)} passed, '
          f'{len(failed)} failed, {len(skipped)} skipped')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
