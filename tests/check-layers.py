#!/usr/bin/python3
"""check-layers.py - module layering of src/ and include/ (make check-layers)

Reads the module table in tests/layers.txt (see its header for the rules)
and fails on: a module missing from the table, an include cycle between
modules, a layer 0-2 module including event loop, curl or socket headers,
a use the module's row does not allow, a clock read outside the modules
the table names, a module's private header (include/NAME-int.h, part
of module NAME) included outside NAME and NAME-*, and a unit test
(DEPS_<module> in the Makefile, tests/unit/test-<module>.c) that links
or includes a module its module may not use.  Prints one line per problem, then
"layers: N passed, M failed" counting modules and unit-test link sets.

Usage: check-layers.py [ROOT]   (ROOT defaults to the repository)
"""

import fnmatch
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
CLOCK = re.compile(r"\b(clock_gettime|gettimeofday|time|clock|timespec_get)"
                   r"\s*\(")
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.S)
MAKEVAR = re.compile(r'^([A-Za-z_][A-Za-z0-9_-]*)\s*:?=\s*(.*)$')
MAX_CYCLES = 64		# elementary cycles printed per strongly connected set


def fail(msg):
    print("layers: error: " + msg)
    print("layers: 0 passed, 1 failed")
    sys.exit(1)


def read_table(path):
    """Returns (rows, anyuse, forbid, clock): rows is a list of
    (pattern, layer, uses, sockets) in file order."""
    rows, anyuse, forbid, clock = [], [], [], []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    with f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            if line[0] == "any:":
                anyuse += line[1:]
            elif line[0] == "forbid:":
                forbid += line[1:]
            elif line[0] == "clock:":
                clock += line[1:]
            elif len(line) >= 2 and line[1].isdigit() and \
                    0 <= int(line[1]) <= 4:
                uses = [w for w in line[2:] if w != "sockets"]
                rows.append((line[0], int(line[1]), uses,
                             "sockets" in line[2:]))
            else:
                fail("%s:%d: cannot read this row" % (path, n))
    return rows, anyuse, forbid, clock


def clock_reads(path):
    """[(line, call)] of clock reads outside comments and strings."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    text = COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return [(text.count("\n", 0, m.start()) + 1, m.group(1))
            for m in CLOCK.finditer(text)]


def row_of(rows, name):
    for r in rows:
        if r[0] == name:
            return r
    for r in rows:
        if fnmatch.fnmatchcase(name, r[0]):
            return r
    return None


def includes(path):
    """[(line, kind, header)]: kind '"' or '<'."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m:
                    out.append((n, m.group(1), m.group(2)))
    except OSError:
        pass
    return out


def forbidden(header, forbid):
    for p in forbid:
        if header == p or (p.endswith("/") and header.startswith(p)):
            return True
    return False


def make_vars(path):
    """The simple variables of the Makefile, $(X) expanded."""
    raw = {}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    text = text.replace("\\\n", " ")
    for line in text.splitlines():
        m = MAKEVAR.match(line)
        if m:
            raw[m.group(1)] = m.group(2).split("#", 1)[0]

    def expand(s, depth=0):
        if depth > 10:
            return s
        return re.sub(r"\$\(([A-Za-z0-9_-]+)\)",
                      lambda m: expand(raw.get(m.group(1), ""), depth + 1),
                      s)

    return {k: expand(v).split() for k, v in raw.items()}


def cycles(graph):
    """Strongly connected sets with more than one module, and their
    elementary cycles (each from its smallest name, up to MAX_CYCLES)."""
    index, low, stack, onstack, sccs = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        onstack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    out = []
    for scc in sorted(sccs):
        members, found = set(scc), []
        for start in scc:
            # cycles through start whose other nodes sort after it
            path = [start]

            def walk(v):
                for w in sorted(graph[v] & members):
                    if len(found) >= MAX_CYCLES:
                        return
                    if w == start:
                        found.append(path + [start])
                    elif w > start and w not in path:
                        path.append(w)
                        walk(w)
                        path.pop()
            walk(start)
        out.append((scc, found))
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    table = os.path.join(root, "tests", "layers.txt")
    rows, anyuse, forbid, clock = read_table(table)
    src, inc = os.path.join(root, "src"), os.path.join(root, "include")

    mods = set()
    for d, ext in ((src, ".c"), (inc, ".h")):
        for f in os.listdir(d):
            if f.endswith(ext):
                mods.add(f[:-len(ext)])
    # include/NAME-int.h is module NAME's private header (shared by the
    # files NAME.c and NAME-*.c split from it): part of NAME, no module
    private = {m: m[:-4] for m in mods
               if m.endswith("-int") and m[:-4] in mods}
    mods -= set(private)

    def files(m):
        return [os.path.join(src, m + ".c"), os.path.join(inc, m + ".h")] + \
            [os.path.join(inc, p + ".h") for p, n in private.items()
             if n == m]
    problems = []		# (module or test set, text)

    def problem(who, text):
        problems.append((who, text))

    layer, row = {}, {}
    for m in sorted(mods):
        r = row_of(rows, m)
        if r is None:
            problem(m, "module %s is not in tests/layers.txt: add a row "
                    "for it (its layer and what it may use)" % m)
            continue
        layer[m], row[m] = r[1], r

    # the modules each module may use: its row, then transitively
    known = mods | {r[0] for r in rows if not any(c in r[0] for c in "*?[")}
    lay_all = {m: row_of(rows, m)[1] for m in known if row_of(rows, m)}

    def direct(m):
        r = row_of(rows, m)
        if r is None:
            return set()
        out = set(anyuse)
        for u in r[2]:
            if u == "@*":
                out |= known
            elif u.startswith("@"):
                lo, _, hi = u[1:].partition("-")
                lo, hi = int(lo), int(hi or lo)
                out |= {k for k, l in lay_all.items() if lo <= l <= hi}
            else:
                out.add(u)
        out.discard(m)
        return out

    allowed = {}
    for m in known:
        seen, todo = set(), [m]
        while todo:
            for u in direct(todo.pop()):
                if u not in seen:
                    seen.add(u)
                    todo.append(u)
        seen.discard(m)
        allowed[m] = seen

    # the include graph
    graph = {m: set() for m in mods}
    where = {}
    for m in sorted(mods):
        for path in files(m):
            rel = os.path.relpath(path, root)
            for n, kind, h in includes(path):
                if kind == '<':
                    if m in layer and layer[m] <= 2 and \
                            not row[m][3] and forbidden(h, forbid):
                        problem(m, "%s:%d: %s (layer %d) includes <%s>: "
                                "layers 0-2 include no event loop, curl or "
                                "socket headers" % (rel, n, m, layer[m], h))
                    continue
                y = h[:-2] if h.endswith(".h") else h
                if y in private and m != private[y] and \
                        not m.startswith(private[y] + "-"):
                    problem(m, "%s:%d: includes \"%s\", private to %s"
                            % (rel, n, h, private[y]))
                y = private.get(y, y)
                if y == m:
                    continue
                if y not in mods:
                    problem(m, "%s:%d: includes \"%s\", which is no module"
                            % (rel, n, h))
                    continue
                graph[m].add(y)
                where.setdefault((m, y), "%s:%d" % (rel, n))

    # the clock: read by the modules on the clock: line only
    for m in sorted(mods):
        if m in clock:
            continue
        for path in files(m):
            for n, call in clock_reads(path):
                problem(m, "%s:%d: %s reads the clock (%s()): only %s may; "
                        "pass now" % (os.path.relpath(path, root), n, m,
                                      call, " ".join(clock) or "none"))

    # uses the table does not allow
    for m in sorted(mods):
        if m not in layer:
            continue
        for y in sorted(graph[m]):
            if y in allowed[m]:
                continue
            r = row[m]
            problem(m, "%s: %s (layer %d, may use: %s) uses %s (layer %s)"
                    % (where[(m, y)], m, layer[m],
                       " ".join(r[2] + anyuse) or "-", y,
                       layer.get(y, "?")))

    # cycles
    for scc, found in cycles(graph):
        for m in scc:
            problem(m, None)
        print("layers: include cycle among %s:" % ", ".join(scc))
        for c in found:
            print("layers:   cycle " + " -> ".join(c) + "  (" +
                  ", ".join(where[(c[i], c[i + 1])]
                            for i in range(len(c) - 1)) + ")")
        if len(found) >= MAX_CYCLES:
            print("layers:   (more cycles not shown)")

    # unit tests: what each links (DEPS_x) and includes
    mk = make_vars(os.path.join(root, "Makefile"))
    unit = os.path.join(root, "tests", "unit")
    tests = sorted(f[5:-2] for f in os.listdir(unit)
                   if f.startswith("test-") and f.endswith(".c"))
    sets = sorted(set(tests) | {k[5:] for k in mk if k.startswith("DEPS_")})
    for t in sets:
        who = "DEPS_" + t
        deps = mk.get(who)
        if t not in mods:
            problem(who, "Makefile: %s is set, but %s is no module"
                    % (who, t))
            continue
        if deps is None:
            problem(who, "Makefile: no %s for tests/unit/test-%s.c"
                    % (who, t))
            continue
        if t not in tests:
            problem(who, "Makefile: %s is set, but there is no "
                    "tests/unit/test-%s.c" % (who, t))
        if t not in deps:
            problem(who, "Makefile: %s does not link %s itself" % (who, t))
        for d in deps:
            if d != t and d not in allowed.get(t, ()):
                problem(who, "Makefile: %s links %s, which %s may not use"
                        % (who, d, t))
        path = os.path.join(unit, "test-%s.c" % t)
        for n, kind, h in includes(path):
            y = h[:-2] if h.endswith(".h") else h
            y = private.get(y, y)
            if kind == '"' and y in mods and y != t and \
                    y not in allowed.get(t, ()):
                problem(who, "tests/unit/test-%s.c:%d: includes \"%s\", "
                        "which %s may not use" % (t, n, h, t))

    for who, text in problems:
        if text is not None:
            print("layers: " + text)
    bad = {who for who, _ in problems}
    items = set(mods) | {"DEPS_" + t for t in sets}
    nprob = sum(1 for _, text in problems if text is not None) + \
        sum(len(found) for _, found in cycles(graph))
    print("layers: %d passed, %d failed (modules and unit-test link sets; "
          "%d problems)" % (len(items - bad), len(bad), nprob))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
