#!/usr/bin/env python3
"""Import cycles among one crate's files: which files `use` (or name by a
crate::/super:: path) a file that uses them back. Usage:
    scripts/import-cycles.py core/src [--with-tests]
Exits 1 when there is a cycle. Uses of crate-root items (lib.rs: macros,
MaybeSendSync) are not counted;
root re-exports (`pub use x::Item`) count as uses of x."""
import os, re, sys, itertools
args = [a for a in sys.argv[1:] if not a.startswith('--')]
WITH_TESTS = '--with-tests' in sys.argv
root = args[0]  # core/src
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(d, f); rel = os.path.relpath(p, root)
        parts = rel[:-3].split('/')
        if parts[-1] in ('mod', 'lib'): parts = parts[:-1]
        files[tuple(parts)] = rel
ALIAS = {}  # crate-root re-exports: name -> full path


def strip_comments(s):
    s = re.sub(r'//[^\n]*', '', s)
    if not WITH_TESTS:
        # A file's `#[cfg(test)] mod tests` (at its end, by convention) is
        # left out unless --with-tests.
        m = re.search(r'#\[cfg\(test\)\]\s*mod\s', s)
        if m:
            s = s[:m.start()]
    return s
def expand(prefix, body):
    # body: the text after prefix (may be {a, b::{c}} or a::b)
    body = body.strip()
    out = []
    if body.startswith('{'):
        inner = body[1:-1]
        depth = 0; cur = ''
        items = []
        for ch in inner:
            if ch == '{': depth += 1
            if ch == '}': depth -= 1
            if ch == ',' and depth == 0: items.append(cur); cur = ''
            else: cur += ch
        items.append(cur)
        for it in items:
            it = it.strip()
            if it: out += expand(prefix, it)
        return out
    m = re.match(r'([A-Za-z_0-9]+)\s*::\s*(.*)$', body, re.S)
    if m:
        return expand(prefix + [m.group(1)], m.group(2))
    name = re.split(r'\s+as\s+', body)[0].strip()
    return [prefix + [name]]
def resolve(cur, path):
    # cur: module path of the file; path: list of segments
    if path[0] == 'crate': base = []; rest = path[1:]
    elif path[0] in ('super', 'self'):
        base = list(cur)
        rest = list(path)
        while rest and rest[0] in ('super', 'self'):
            if rest[0] == 'super': base = base[:-1]
            rest = rest[1:]
    elif tuple(cur) + (path[0],) in files:
        base = list(cur); rest = list(path)
    else:
        return None
    full = base + rest
    if full and full[0] in ALIAS and (full[0],) not in files:
        full = ALIAS[full[0]] + full[1:]
    best = ()
    for i in range(len(full) + 1):
        if tuple(full[:i]) in files: best = tuple(full[:i])
    return best
for _m in re.finditer(r'pub use\s+([a-z_]+(?:::[A-Za-z_]+)+)\s*;', strip_comments(open(os.path.join(root, 'lib.rs')).read())):
    _p = _m.group(1).split('::')
    ALIAS[_p[-1]] = _p
edges = {}
for mod, rel in files.items():
    s = strip_comments(open(os.path.join(root, rel)).read())
    # ignore #[cfg(test)] mod tests { ... } use lines? keep them, flag separately
    for m in re.finditer(r"\buse\s+([A-Za-z_][^;]*);", s):
        for p in expand([], m.group(1)):
            p = [x for x in p if x != '*'] or p
            t = resolve(mod, p)
            if t is None or t == mod: continue
            edges.setdefault(mod, set()).add(t)
            # follow root re-exports
            if t == () and len(p) >= 2:
                pass
# inline paths outside use statements: crate::a::b, super::x
for mod, rel in files.items():
    s = strip_comments(open(os.path.join(root, rel)).read())
    s = re.sub(r'\buse\s+[^;]*;', '', s)
    for m in re.finditer(r'\b((?:crate|super)(?:\s*::\s*(?:super|[A-Za-z_0-9]+))+)', s):
        p = [x.strip() for x in m.group(1).split('::')]
        t = resolve(mod, p)
        if t is None or t == mod: continue
        edges.setdefault(mod, set()).add(t)
# resolve crate-root re-exports: lib.rs `pub use x::...` -> treat a use of crate::Item as use of x
lib = strip_comments(open(os.path.join(root, 'lib.rs')).read())
reexp = {}
for m in re.finditer(r'pub use\s+([a-z_]+)::([A-Za-z_]+)\s*;', lib):
    reexp[m.group(2)] = (m.group(1),)
for mod, rel in files.items():
    s = strip_comments(open(os.path.join(root, rel)).read())
    for m in re.finditer(r'\buse\s+(crate\s*::[^;]*);', s):
        for p in expand([], m.group(1)):
            if len(p) == 2 and p[1] in reexp and () in edges.get(mod, set()):
                edges[mod].discard(()); edges[mod].add(reexp[p[1]])
lib_users = sorted(files[m] for m in edges if () in edges[m])
for m in edges: edges[m].discard(())
print("files using crate-root items (macros, MaybeSendSync; not counted as cycles with lib.rs):", len(lib_users))
name = lambda m: files[m]
# report 2-cycles and longer cycles via SCC
import collections
idx = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
sys.setrecursionlimit(10000)
def dfs(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in idx: dfs(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in files:
    if v not in idx: dfs(v)
pairs = sorted({tuple(sorted((name(a), name(b)))) for a in edges for b in edges[a] if a in edges.get(b, ())})
print("mutual imports (A uses B and B uses A):")
for a, b in pairs: print("  ", a, "<->", b)
print("strongly connected groups (cycles of any length):")
for comp in sccs: print("  ", sorted(name(m) for m in comp))
# A cycle fails the check (scripts/test.sh's fmt stage runs it on every crate).
sys.exit(1 if sccs else 0)
