// Unicode for the CLIP tokenizer and the prompt parser. The reference pipeline
// (transformers' CLIPTokenizer, ftfy, AUTOMATIC1111's regexes) is Python, so
// each question here is answered the way Python answers it, from tables made
// by scripts/generate-unicode-tables.py (unicode_tables.inc; unicode_version()
// says which Unicode they describe).
#pragma once

#include <string>
#include <string_view>

namespace sd::unicode {

// UTF-8 -> code points. Malformed input never fails: each maximal invalid
// subpart becomes one U+FFFD, as Python's bytes.decode("utf-8", "replace").
std::u32string decode_utf8(std::string_view bytes);
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(std::u32string_view text);

bool is_letter(char32_t cp);  // \p{L}
bool is_number(char32_t cp);  // \p{N}
// Neither \p{L} nor \p{N}, but one of its case variants is (U+0345 -> U+0399).
bool is_case_variant_letter(char32_t cp);
bool is_space(char32_t cp);   // Python re \s (str.isspace())
bool is_word(char32_t cp);    // Python re \w
int decimal_value(char32_t cp);  // Python re \d -> 0..9, otherwise -1

// str.lower(): full lower-case mapping with the Final_Sigma rule.
std::u32string to_lower(std::u32string_view text);
// unicodedata.normalize("NFC", text)
std::u32string nfc(std::u32string_view text);

const char* unicode_version();

}  // namespace sd::unicode
