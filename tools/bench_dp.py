#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Data plane throughput against dpdk-testpmd, in one go, same vdevs.

Runs, in alternating rounds on the same single worker core and the same
virtual devices (a pcap replayed with infinite_rx=1 into net_null):
  - dpdk-testpmd io-forward (the baseline),
  - tidegate with a global bucket only, not limiting,
  - tidegate with global + topic + consumer tiers, 64K consumers, limiting,
and prints each figure (median over the rounds, Mpps) and the ratios to
testpmd. Goals (issue 3): >= 0.85 and >= 0.5.

Usage: tools/bench_dp.py [--build DIR] [--rounds N] [--seconds S]
The build should be a release build (meson setup DIR --buildtype=release);
by default build-release is made if missing. Not part of the test suites.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 256K frames: 64K consumers, each ~4 times; the pcap driver holds them
# all in mbufs
FRAMES = 262144
MBUFS = 300000
EAL = ['-l', '0-1', '--no-huge', '-m', '1536', '--no-pci',
       '--log-level', 'lib.*:error']


def eal_vdevs(pcap):
    return ['--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % pcap,
            '--vdev', 'net_null0,no-rx=1']


def run_testpmd(pcap, seconds, prefix):
    cmd = (['dpdk-testpmd'] + EAL + ['--file-prefix', prefix] +
           eal_vdevs(pcap) +
           ['--', '--forward-mode=io', '--nb-cores=1',
            '--total-num-mbufs=%d' % MBUFS, '--stats-period', '1',
            '--no-lsc-interrupt'])
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             timeout=seconds, stdin=subprocess.DEVNULL).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout
    pps = [int(x) for x in re.findall(r'Rx-pps:\s+(\d+)', out or '')]
    pps = [p for p in pps if p > 0]
    # the first report or two cover start-up; keep the steady state
    pps = pps[2:] if len(pps) > 4 else pps
    if not pps:
        raise RuntimeError('testpmd printed no rates:\n' + (out or '')[-2000:])
    return statistics.median(pps) / 1e6


def run_tidegate(exe, cfg_text, seconds, tmp, name):
    cfg = os.path.join(tmp, name + '.cfg')
    summ = os.path.join(tmp, name + '.json')
    with open(cfg, 'w') as f:
        f.write(cfg_text)
    subprocess.run([exe, '-c', cfg, '--duration', str(seconds),
                    '--summary-json', summ], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=seconds + 60)
    with open(summ) as f:
        s = json.load(f)
    assert s['rx'] == sum(s['outcomes'].values()), 'conservation'
    return s['rx'] / s['traffic_s'] / 1e6, s


def config(pcap, prefix, body):
    eal = EAL + ['--file-prefix', prefix] + eal_vdevs(pcap)
    return ('eal = [ %s ];\nworkers = 1;\nmbufs = %d;\n'
            'stats_interval = 0.0;\npolicy = { cpu_warning = 1.0; };\n'
            'ports = ( { name = "in"; device = "net_pcap0"; },\n'
            '          { name = "out"; device = "net_null0"; } );\n'
            'pipelines = ( { name = "bench"; ingress = "in";\n'
            '  egress = { type = "port"; port = "out"; };\n%s } );\n' %
            (', '.join('"%s"' % a for a in eal), MBUFS, body))


GLOBAL_ONLY = '  global = { rate = 1e11; burst = 1000000; };\n'
THREE_TIERS = '''  global = { rate = 4000000.0; burst = 40000; };
  topics = (
    { name = "t0"; rate = 1000000.0; burst = 10000; match = ( { dst_port = 9000; } ); },
    { name = "t1"; rate = 1000000.0; burst = 10000; match = ( { dst_port = 9001; } ); },
    { name = "t2"; rate = 1000000.0; burst = 10000; match = ( { dst_port = 9002; } ); },
    { name = "t3"; rate = 1000000.0; burst = 10000; match = ( { dst_port = 9003; } ); }
  );
  consumers = { rate = 50.0; burst = 10; max = 131072; idle_timeout = 60.0; };
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(ROOT, 'build-release'))
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--seconds', type=int, default=6)
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.build, 'build.ninja')):
        subprocess.run(['meson', 'setup', a.build, '--buildtype=release'],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(['meson', 'compile', '-C', a.build], check=True,
                   stdout=subprocess.DEVNULL)
    exe = os.path.join(a.build, 'tidegate')
    gen = os.path.join(a.build, 'tools', 'tidegate-gen-pcap')
    res = {'testpmd': [], 'global': [], 'tiers': []}
    with tempfile.TemporaryDirectory(prefix='tg-bench-') as tmp:
        pcap = os.path.join(tmp, 'bench.pcap')
        # 64-byte messages, 64K consumers equally active (each one is far
        # above the consumer rate: every tier limits)
        subprocess.run([gen, '-o', pcap, '--count', str(FRAMES), '--topics', '4',
                        '--consumers', '65536', '--zipf', '0',
                        '--sizes', '64-64', '--seed', '7'], check=True,
                       stderr=subprocess.DEVNULL)
        pid = os.getpid()
        for r in range(a.rounds):
            res['testpmd'].append(run_testpmd(pcap, a.seconds + 3,
                                              'tg-bench-tp-%d' % pid))
            mpps, _ = run_tidegate(exe, config(pcap, 'tg-bench-g-%d' % pid,
                                               GLOBAL_ONLY),
                                   a.seconds, tmp, 'global')
            res['global'].append(mpps)
            mpps, s = run_tidegate(exe, config(pcap, 'tg-bench-t-%d' % pid,
                                               THREE_TIERS),
                                   a.seconds, tmp, 'tiers')
            res['tiers'].append(mpps)
            print('round %d: testpmd %.2f Mpps, global-only %.2f, '
                  'three tiers %.2f (consumers %d, admitted %.2f%%)' %
                  (r + 1, res['testpmd'][-1], res['global'][-1],
                   res['tiers'][-1], s['consumers']['live'],
                   100.0 * s['outcomes']['admitted'] / s['rx']),
                  flush=True)
    tp = statistics.median(res['testpmd'])
    g = statistics.median(res['global'])
    t = statistics.median(res['tiers'])
    print('median of %d rounds (%d s each):' % (a.rounds, a.seconds))
    print('  testpmd io-forward:             %6.2f Mpps' % tp)
    print('  tidegate global only (no limit): %6.2f Mpps  ratio %.3f '
          '(goal >= 0.85: %s)' % (g, g / tp, 'met' if g / tp >= 0.85
                                  else 'NOT met'))
    print('  tidegate 3 tiers, 64K consumers: %6.2f Mpps  ratio %.3f '
          '(goal >= 0.50: %s)' % (t, t / tp, 'met' if t / tp >= 0.5
                                  else 'NOT met'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
