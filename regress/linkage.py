#!/usr/bin/env python3
"""Linkage: each program links only what its process needs.  keyd, which
holds the private key, neither links nor carries the configuration
parser: the parent sends it its part of the configuration typed, and
libyaml is not among the libraries its ELF file needs (DT_NEEDED), nor
is any yaml_ or config_parse symbol in it.  stored and relayd get their
parts typed too and are held to the same; peerd, whose parent reads the
file, needs libyaml, which shows the reader works.  Only stored holds
the store, so only stored needs LMDB (peerd -r runs stored -R).

The ELF file is read here, without readelf: its section headers, the
dynamic section and its string table, and the symbol tables.  Speaks
TAP.  Usage: linkage.py BUILDDIR"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suite import TAP, check_args  # noqa: E402

SHT_SYMTAB, SHT_STRTAB, SHT_DYNAMIC, SHT_DYNSYM = 2, 3, 6, 11
DT_NULL, DT_NEEDED = 0, 1


class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.b = f.read()
        if self.b[:4] != b"\x7fELF":
            raise ValueError("%s: not an ELF file" % path)
        self.is64 = self.b[4] == 2
        self.end = "<" if self.b[5] == 1 else ">"
        if self.is64:
            shoff, = self.unpack("Q", 0x28)
            shentsize, shnum = self.unpack("HH", 0x3a)
        else:
            shoff, = self.unpack("I", 0x20)
            shentsize, shnum = self.unpack("HH", 0x2e)
        self.sections = [self.section(shoff + i * shentsize)
                         for i in range(shnum)]

    def unpack(self, fmt, off):
        return struct.unpack_from(self.end + fmt, self.b, off)

    def section(self, off):
        """(type, offset, size, link, entsize) of a section header."""
        if self.is64:
            _, typ, _, _, o, size, link, _, _, ent = \
                self.unpack("IIQQQQIIQQ", off)
        else:
            _, typ, _, _, o, size, link, _, _, ent = \
                self.unpack("IIIIIIIIII", off)
        return typ, o, size, link, ent

    def string(self, strtab, off):
        _, o, size, _, _ = self.sections[strtab]
        end = self.b.index(b"\0", o + off, o + size)
        return self.b[o + off:end].decode("utf-8", "replace")

    def needed(self):
        out = []
        fmt, step = ("qQ", 16) if self.is64 else ("iI", 8)
        for typ, o, size, link, _ in self.sections:
            if typ != SHT_DYNAMIC:
                continue
            for off in range(o, o + size, step):
                tag, val = self.unpack(fmt, off)
                if tag == DT_NULL:
                    break
                if tag == DT_NEEDED:
                    out.append(self.string(link, val))
        return out

    def symbols(self, kinds):
        out = set()
        for typ, o, size, link, ent in self.sections:
            if typ not in kinds or ent == 0:
                continue
            for off in range(o, o + size, ent):
                name, = self.unpack("I", off)
                if name:
                    out.add(self.string(link, name))
        return out


def yaml_libs(needed):
    return [n for n in needed if n.startswith("libyaml")]


def parser_symbols(syms):
    return sorted(s for s in syms if s.startswith("yaml_") or
                  s in ("config_parse", "config_load", "config_emit"))


def main():
    build, _ = check_args(__doc__, "")
    t = TAP()
    for prog in ("keyd", "stored", "relayd"):
        e = Elf(os.path.join(build, prog))
        needed = e.needed()
        t.ok(len(needed) > 0 and "libc.so.6" in needed,
             "%s: the dynamic section is read: %s" % (prog, needed))
        t.ok(not yaml_libs(needed),
             "%s does not need libyaml: %s" % (prog, needed))
        dyn = e.symbols((SHT_DYNSYM,))
        t.ok(not parser_symbols(dyn),
             "%s imports no yaml_ symbol: %s" % (prog, parser_symbols(dyn)))
        syms = e.symbols((SHT_SYMTAB,))
        if syms:
            t.ok(not parser_symbols(syms) and "child_start" in syms,
                 "%s carries no configuration parser: %s" %
                 (prog, parser_symbols(syms)))
        else:
            t.skip("%s carries no configuration parser" % prog,
                   "%s is stripped" % prog)
    e = Elf(os.path.join(build, "peerd"))
    t.ok(yaml_libs(e.needed()) != [],
         "peerd, whose parent reads the file, needs libyaml: %s" %
         e.needed())
    t.ok("yaml_parser_parse" in e.symbols((SHT_DYNSYM,)),
         "peerd imports yaml_parser_parse")
    lmdb = Elf(os.path.join(build, "stored")).needed()
    t.ok(any(n.startswith("liblmdb") for n in lmdb),
         "stored needs LMDB: %s" % lmdb)
    for prog in ("peerd", "keyd", "relayd", "peerctl"):
        needed = Elf(os.path.join(build, prog)).needed()
        t.ok(needed and not any(n.startswith("liblmdb") for n in needed),
             "%s does not need LMDB: %s" % (prog, needed))
    sys.exit(t.done())


if __name__ == "__main__":
    main()
