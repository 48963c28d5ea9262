// ftfy.fix_text() as transformers' CLIPTokenizer calls it (ftfy 6.3.1 with its
// default TextFixerConfig), minus the mojibake repair.
//
// Done, in ftfy's order, per line, repeated until nothing changes:
//   unescape_html (HTML5 '&name;', ftfy's upper-case '&NAME;', '&#n;', '&#xh;';
//                  off from the first line that contains '<' onwards),
//   fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes,
//   fix_line_breaks, remove_terminal_escapes, remove_control_chars, NFC.
// Not done: fix_encoding (mojibake detection: a heuristic "badness" scorer and
// re-decoding through ten legacy code pages), so text such as "cafÃ©" keeps its
// mojibake where ftfy would give "café". fix_surrogates has nothing to do: our
// input is UTF-8, where lone surrogates cannot occur (they decode to U+FFFD).
#pragma once

#include <string>
#include <string_view>

namespace sd {

std::u32string ftfy_fix_text(std::u32string_view text);

// The pieces, exposed for tests.
std::u32string ftfy_unescape_html(std::u32string_view text);

}  // namespace sd
