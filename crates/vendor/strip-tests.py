"""Removes the in-source test modules of a vendored crate: every
`#[cfg(test)] mod tests { ... }` (or `mod test`) block and the
`#[cfg(test)] mod dispatcher_tests;` declaration, in the folder given.

    python3 strip-tests.py path/to/crate/src
"""
import glob
import re
import sys
def block_end(s, i):
    # s[i] == '{'; return index after matching '}'
    depth=0; n=len(s)
    while i<n:
        c=s[i]
        if s.startswith('//',i):
            i=s.index('\n',i)
            continue
        if s.startswith('/*',i):
            i=s.index('*/',i)+2; continue
        m=re.match(r'b?r(#*)"',s[i:])
        if m and (i==0 or not (s[i-1].isalnum() or s[i-1]=='_')):
            hashes=m.group(1); j=i+m.end()
            i=s.index('"'+hashes,j)+1+len(hashes); continue
        if c=='"' :
            j=i+1
            while s[j]!='"':
                j+= 2 if s[j]=='\\' else 1
            i=j+1; continue
        if c=="'":
            m=re.match(r"'(\\.[^']*|[^\\'])'",s[i:])
            if m: i+=m.end(); continue
        if c=='{': depth+=1
        elif c=='}':
            depth-=1
            if depth==0: return i+1
        i+=1
    raise Exception("unbalanced")
if len(sys.argv) != 2 or not sys.argv[1].rstrip('/').endswith('src'):
    sys.exit("usage: strip-tests.py path/to/crate/src")
removed=0
for f in glob.glob(sys.argv[1].rstrip('/')+'/**/*.rs',recursive=True):
    s=open(f).read(); orig=s
    while True:
        m=re.search(r'\n[ \t]*#\[cfg\(test\)\]\n[ \t]*mod (tests|test) \{',s)
        if not m: break
        start=m.start(); brace=m.end()-1
        end=block_end(s,brace)
        s=s[:start]+s[end:]; removed+=1
    s2=re.sub(r'\n[ \t]*#\[cfg\(test\)\]\n[ \t]*mod dispatcher_tests;','',s)
    if s2!=s: removed+=1; s=s2
    if s!=orig: open(f,'w').write(s)
print("removed",removed)
