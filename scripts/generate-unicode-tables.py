#!/usr/bin/env python3
"""Writes native/text/unicode_tables.inc: the Unicode facts the CLIP tokenizer
and the prompt parser need, taken from this Python's unicodedata and str
methods, because the reference pipeline (transformers' CLIPTokenizer, ftfy,
AUTOMATIC1111's re patterns) is Python and asks these same questions:

  letter / number      \\p{L} / \\p{N} of the CLIP split regex (general category L* / N*)
  case-variant letters code points that are neither, but have a one-code-point case
                       variant that is (U+0345 -> U+0399): the CLIP pattern is compiled
                       with IGNORECASE, and the `regex` module then leaves them out of
                       [^\\s\\p{L}\\p{N}] as well as out of [\\p{L}], so no
                       alternative matches them
  space / word / digit Python re's \\s, \\w and \\d on str patterns (A1111's prompt
                       regexes, CLIPTokenizer's whitespace_clean)
  lowercase            str.lower(), including its Final_Sigma rule (the case-ignorable
                       and cased sets are measured by asking str.lower() itself)
  NFC                  canonical decompositions, combining classes and primary
                       composites, for unicodedata.normalize('NFC') (ftfy's last step)

Run it with the Python whose Unicode version you want (the file records it):
    python3 scripts/generate-unicode-tables.py
"""
import os
import re
import sys
import unicodedata

OUT = os.path.join(os.path.dirname(__file__), "..", "native", "text", "unicode_tables.inc")
MAX_CP = 0x110000


def code_points():
    return (cp for cp in range(MAX_CP) if not 0xD800 <= cp <= 0xDFFF)


def ranges(pred):
    out = []
    for cp in code_points():
        if pred(cp):
            if out and out[-1][1] == cp - 1:
                out[-1][1] = cp
            else:
                out.append([cp, cp])
    return out


def lower_runs():
    """Single-code-point str.lower() mappings as runs {first, last, delta, stride}.
    A stride-2 run never spans a code point that has a mapping of its own, so the
    runs stay disjoint and sorted for binary search."""
    single = {}
    special = {}
    for cp in code_points():
        low = chr(cp).lower()
        if low == chr(cp):
            continue
        if len(low) == 1:
            single[cp] = ord(low) - cp
        else:
            special[cp] = [ord(c) for c in low]
    runs = []
    cps = sorted(single)
    i = 0
    while i < len(cps):
        first = cps[i]
        delta = single[first]
        stride = 1
        if i + 1 < len(cps) and single[cps[i + 1]] == delta and cps[i + 1] - first in (1, 2):
            stride = cps[i + 1] - first
        last = first
        j = i + 1
        while j < len(cps) and cps[j] == last + stride and single[cps[j]] == delta:
            if stride == 2 and (last + 1) in single:
                break
            last = cps[j]
            j += 1
        runs.append((first, last, delta, stride))
        i = j
    return runs, special


def sigma_classes():
    """Python's str.lower() turns U+03A3 into final sigma when it follows a cased
    letter (skipping case-ignorable ones) and no cased letter follows. Probing it
    with 'A' (cased, not ignorable) around each code point c tells both sets:
    'A' c SIGMA is final iff c is ignorable or cased; 'A' SIGMA c is final iff c is
    ignorable or not cased."""
    ignorable, cased = set(), set()
    for cp in code_points():
        c = chr(cp)
        before = ("A" + c + "\u03a3").lower()[-1] == "\u03c2"
        after = ("A\u03a3" + c).lower()[1] == "\u03c2"
        if before and after:
            ignorable.add(cp)
        elif before:
            cased.add(cp)
    return ignorable, cased


def nfc_tables():
    ccc = []
    for cp in code_points():
        k = unicodedata.combining(chr(cp))
        if k:
            if ccc and ccc[-1][1] == cp - 1 and ccc[-1][2] == k:
                ccc[-1][1] = cp
            else:
                ccc.append([cp, cp, k])
    decomp = []
    for cp in code_points():
        if 0xAC00 <= cp <= 0xD7A3:
            continue  # Hangul syllables: done by arithmetic
        d = unicodedata.normalize("NFD", chr(cp))
        if d != chr(cp):
            decomp.append((cp, [ord(c) for c in d]))
    compose = []
    for cp in code_points():
        m = unicodedata.decomposition(chr(cp))
        if not m or m.startswith("<"):
            continue
        parts = [int(p, 16) for p in m.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
            compose.append((parts[0], parts[1], cp))
    compose.sort()
    return ccc, decomp, compose


def emit_rows(out, rows, per_line):
    for i in range(0, len(rows), per_line):
        out.append("    " + " ".join(rows[i:i + per_line]))


def emit_ranges(out, name, rs, comment):
    out.append(f"// {comment} ({len(rs)} ranges)")
    out.append(f"inline constexpr CodeRange {name}[] = {{")
    emit_rows(out, [f"{{0x{a:X}, 0x{b:X}}}," for a, b in rs], 6)
    out.append("};")
    out.append("")


def main():
    out = []
    version = unicodedata.unidata_version
    py = sys.version.split()[0]
    out.append("// Generated by scripts/generate-unicode-tables.py from Python "
               f"{py} (Unicode {version}). Do not edit.")
    out.append("// Included once, by native/text/unicode.cpp.")
    out.append("")
    out.append(f'inline constexpr const char* kUnicodeVersion = "{version}";')
    out.append("")

    emit_ranges(out, "kLetterRanges", ranges(lambda cp: unicodedata.category(chr(cp)).startswith("L")),
                "\\p{L}: general category Lu Ll Lt Lm Lo")
    emit_ranges(out, "kNumberRanges", ranges(lambda cp: unicodedata.category(chr(cp)).startswith("N")),
                "\\p{N}: general category Nd Nl No")
    def letter_or_number(c):
        return unicodedata.category(c)[0] in "LN"

    def case_variant_letter(cp):
        c = chr(cp)
        variants = {v for v in (c.lower(), c.upper(), c.casefold(), c.title()) if len(v) == 1 and v != c}
        return not letter_or_number(c) and any(letter_or_number(v) for v in variants)

    emit_ranges(out, "kCaseVariantLetterRanges", ranges(case_variant_letter),
                "not \\p{L} or \\p{N}, but a case variant is")
    emit_ranges(out, "kSpaceRanges", ranges(lambda cp: chr(cp).isspace()),
                "Python re \\s on str = str.isspace()")
    emit_ranges(out, "kWordRanges", ranges(lambda cp: re.match(r"\w", chr(cp)) is not None),
                "Python re \\w on str (alphanumeric or '_')")
    digits = ranges(lambda cp: re.match(r"\d", chr(cp)) is not None)
    for a, b in digits:  # every block of decimal digits runs 0..9 (what the lookup assumes)
        assert all(unicodedata.decimal(chr(cp)) == (cp - a) % 10 for cp in range(a, b + 1))
    emit_ranges(out, "kDigitRanges", digits, "Python re \\d on str (category Nd); value = (cp - first) % 10")

    runs, special = lower_runs()
    out.append(f"// str.lower() of single code points: cp in [first, last] with (cp - first) % stride == 0"
               f" maps to cp + delta ({len(runs)} runs)")
    out.append("inline constexpr LowerRun kLowerRuns[] = {")
    emit_rows(out, [f"{{0x{a:X}, 0x{b:X}, {d}, {s}}}," for a, b, d, s in runs], 4)
    out.append("};")
    out.append("// str.lower() results longer than one code point")
    out.append("inline constexpr LowerSpecial kLowerSpecial[] = {")
    for cp, low in sorted(special.items()):
        assert len(low) <= 3
        cps = ", ".join(f"0x{c:X}" for c in low)
        out.append(f"    {{0x{cp:X}, {len(low)}, {{{cps}}}}},")
    out.append("};")
    out.append("")

    ignorable, cased = sigma_classes()
    emit_ranges(out, "kCaseIgnorableRanges", ranges(lambda cp: cp in ignorable),
                "case-ignorable code points, as str.lower()'s final-sigma rule sees them")
    emit_ranges(out, "kCasedRanges", ranges(lambda cp: cp in cased),
                "cased code points that are not case-ignorable")

    ccc, decomp, compose = nfc_tables()
    out.append(f"// canonical combining class != 0: {{first, last, class}} ({len(ccc)} runs)")
    out.append("inline constexpr CombiningRun kCombiningRuns[] = {")
    emit_rows(out, [f"{{0x{a:X}, 0x{b:X}, {k}}}," for a, b, k in ccc], 5)
    out.append("};")
    out.append("")
    data = []
    rows = []
    for cp, seq in decomp:
        rows.append(f"{{0x{cp:X}, {len(data)}, {len(seq)}}},")
        data.extend(seq)
    out.append(f"// full canonical decompositions (NFD of one code point, Hangul excluded): {len(decomp)}")
    out.append("inline constexpr Decomposition kDecompositions[] = {")
    emit_rows(out, rows, 5)
    out.append("};")
    out.append("inline constexpr uint32_t kDecompositionData[] = {")
    emit_rows(out, [f"0x{c:X}," for c in data], 10)
    out.append("};")
    out.append("")
    out.append(f"// primary composites: {{first, second, composite}}, sorted ({len(compose)})")
    out.append("inline constexpr Composition kCompositions[] = {")
    emit_rows(out, [f"{{0x{a:X}, 0x{b:X}, 0x{c:X}}}," for a, b, c in compose], 4)
    out.append("};")

    with open(OUT, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {OUT} (Unicode {version})")


if __name__ == "__main__":
    main()
