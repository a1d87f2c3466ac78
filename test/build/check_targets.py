#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each source compiled once per variant, and only by its own directory.

Reads `meson introspect --targets BUILD_DIR` and fails when
  - a C/C++ source is compiled into more than one target of the same
    variant (the shipped code and the tested code must be the same objects:
    shared code goes into a static library that both link), or
  - a target compiles a source outside the directory of the meson.build
    that defines it (`../../util/x.cpp`): a layer's sources are built by
    that layer's meson.build only.
A variant is a set of instrumentation: the libFuzzer targets (compiled
with -fsanitize=fuzzer or fuzzer-no-link) are one, everything else another.
"""
import json
import os
import subprocess
import sys

COMPILED = ('.c', '.cc', '.cpp')


def variant(params):
    if any(p.startswith('-fsanitize=fuzzer') for p in params):
        return 'fuzz'
    return 'plain'


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: check_targets.py MESON SOURCE_ROOT BUILD_DIR')
    meson, src_root, build_dir = sys.argv[1:]
    src_root = os.path.realpath(src_root)
    out = subprocess.run([meson, 'introspect', '--targets', build_dir],
                         check=True, capture_output=True, text=True).stdout
    targets = json.loads(out)
    seen = {}  # (variant, source) -> target name
    problems = []
    for t in targets:
        own_dir = os.path.dirname(os.path.realpath(t['defined_in']))
        for group in t.get('target_sources', []):
            v = variant(group.get('parameters', []))
            for s in group.get('sources', []):
                s = os.path.realpath(s)
                if not s.endswith(COMPILED) or not s.startswith(src_root + '/'):
                    continue  # headers, generated files
                rel = os.path.relpath(s, src_root)
                if not s.startswith(own_dir + '/'):
                    problems.append('%s (%s): compiles %s from outside %s' % (
                        t['name'], os.path.relpath(t['defined_in'], src_root), rel,
                        os.path.relpath(own_dir, src_root) or '.'))
                key = (v, rel)
                if key in seen and seen[key] != t['name']:
                    problems.append('%s: compiled into both %s and %s (%s variant)' % (
                        rel, seen[key], t['name'], v))
                seen.setdefault(key, t['name'])
    for p in problems:
        print('check_targets: ' + p)
    print('check_targets: %d targets, %d compiled sources, %d problems' % (
        len(targets), len(seen), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
