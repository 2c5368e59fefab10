#!/usr/bin/python3
"""Batch INI editor for the lab: one process edits many files, keeping comments and order.

Reads edit lines on stdin, one per line, fields separated by TAB:
    FILE<TAB>SECTION<TAB>KEY<TAB>VALUE     set KEY = VALUE in [SECTION] (section created if missing)
    FILE<TAB>SECTION<TAB>KEY<TAB>@delete   remove KEY from [SECTION]
    FILE<TAB>SECTION<TAB>@delete           remove the whole [SECTION]
Blank lines and lines starting with '#' are ignored. A value may be empty.
Files are rewritten only when their content changes (mode and owner kept).
Prints nothing on success; a bad line is an error naming the line.
"""
import os
import re
import sys

SECTION_RE = re.compile(r"^\s*\[([^\]]+)\]\s*$")
KEY_RE = re.compile(r"^\s*([^#;=\s][^=]*?)\s*=")


class IniFile:
    def __init__(self, path):
        self.path = path
        try:
            with open(path, encoding="utf-8") as f:
                self.lines = f.read().splitlines()
        except FileNotFoundError:
            self.lines = []
        self.original = list(self.lines)

    def _section_bounds(self, section):
        """Return (header_index, end_index) of a section, or None. DEFAULT may be implicit at the top."""
        start = None
        for i, line in enumerate(self.lines):
            m = SECTION_RE.match(line)
            if m:
                if start is not None:
                    return start, i
                if m.group(1).strip() == section:
                    start = i
        if start is not None:
            return start, len(self.lines)
        return None

    def set(self, section, key, value):
        bounds = self._section_bounds(section)
        newline = f"{key} = {value}"
        if bounds is None:
            if self.lines and self.lines[-1].strip():
                self.lines.append("")
            self.lines += [f"[{section}]", newline]
            return
        start, end = bounds
        found = False
        i = start + 1
        while i < end:
            m = KEY_RE.match(self.lines[i])
            if m and m.group(1).strip() == key:
                if not found:
                    self.lines[i] = newline
                    found = True
                    i += 1
                else:  # duplicate key: drop it so the value is unambiguous
                    del self.lines[i]
                    end -= 1
                continue
            i += 1
        if not found:
            # insert after the last non-blank line of the section
            j = end
            while j > start + 1 and not self.lines[j - 1].strip():
                j -= 1
            self.lines.insert(j, newline)

    def delete_key(self, section, key):
        bounds = self._section_bounds(section)
        if bounds is None:
            return
        start, end = bounds
        self.lines[start + 1:end] = [
            l for l in self.lines[start + 1:end]
            if not ((m := KEY_RE.match(l)) and m.group(1).strip() == key)
        ]

    def delete_section(self, section):
        bounds = self._section_bounds(section)
        if bounds is not None:
            del self.lines[bounds[0]:bounds[1]]

    def save(self):
        if self.lines == self.original:
            return
        text = "\n".join(self.lines) + "\n"
        tmp = self.path + ".ini-tmp"
        st = os.stat(self.path) if os.path.exists(self.path) else None
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        if st is not None:
            os.chmod(tmp, st.st_mode & 0o7777)
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, self.path)


def main():
    files = {}
    for n, raw in enumerate(sys.stdin, 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == 3 and parts[2] == "@delete":
            path, section, _ = parts
            key = None
        elif len(parts) == 4:
            path, section, key, value = parts
        else:
            sys.exit(f"ini.py: line {n}: want FILE<TAB>SECTION<TAB>KEY<TAB>VALUE, got {line!r}")
        ini = files.get(path)
        if ini is None:
            ini = files[path] = IniFile(path)
        if key is None:
            ini.delete_section(section)
        elif value == "@delete":
            ini.delete_key(section, key)
        else:
            ini.set(section, key, value)
    for ini in files.values():
        ini.save()


if __name__ == "__main__":
    main()
