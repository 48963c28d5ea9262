import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAddon } from '../../cli/binding/load-addon.js';
import type { TokenizedPrompt } from '../../cli/binding/types.js';
import { clipVocabPath } from '../../cli/paths.js';

// The prompt side of the engine, checked against AUTOMATIC1111's documented
// behaviour (modules/prompt_parser.py doctests, sd_hijack_clip.py chunking)
// and ftfy's. Expected weights are the webui's float arithmetic: "((a))" is
// 1.1 * 1.1 = 1.2100000000000002, "[a]" is 1 / 1.1.

const DRIVER = join('build', 'native', 'sd-driver');
const VOCAB = clipVocabPath();
const BOS = 49406;
const EOS = 49407;
// Ids from the fixtures' manifest (tiny-sd1 tokenizer cases).
const CAT = 2368;
const COMMA = 267;
const A = 320;
const MASTERPIECE = 12066;

let work = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'sd-prompt-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

function driver(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(DRIVER, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function batch<T>(prompts: string[], extra: string[] = []): T[] {
  const file = join(work, 'batch.json');
  writeFileSync(file, JSON.stringify(prompts));
  const r = driver(['tokenize', '--vocab', VOCAB, ...extra, '--batch', file]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T[];
}

function pieces(prompts: string[], extra: string[] = []): [string, number][][] {
  return batch<TokenizedPrompt>(prompts, extra).map((r) => r.pieces.map((p) => [p.text, p.weight]));
}

describe('parse_prompt_attention (sd-driver tokenize)', () => {
  const table: [string, [string, number][]][] = [
    ['normal text', [['normal text', 1]]],
    ['an (important) word', [['an ', 1], ['important', 1.1], [' word', 1]]],
    ['(unbalanced', [['unbalanced', 1.1]]],
    ['\\(literal\\]', [['(literal]', 1]]],
    ['(unnecessary)(parens)', [['unnecessaryparens', 1.1]]],
    [
      'a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).',
      [
        ['a ', 1],
        ['house', 1.5730000000000004],
        [' ', 1.1],
        ['on', 1],
        [' a ', 1.1],
        ['hill', 0.55],
        [', sun, ', 1.1],
        ['sky', 1.4641000000000006],
        ['.', 1.1],
      ],
    ],
    ['(a:1.3)', [['a', 1.3]]],
    ['(a: 1.5 )', [['a', 1.5]]],
    ['((a))', [['a', 1.1 * 1.1]]],
    ['[a]', [['a', 1 / 1.1]]],
    ['[[a]]', [['a', 1 / 1.1 / 1.1]]],
    ['((a:1.3))', [['a', 1.3 * 1.1]]],
    ['(a:-1.5)', [['a', -1.5]]],
    ['(a:.5)', [['a', 0.5]]],
    ['\\(a\\)', [['(a)', 1]]],
    ['\\\\', [['\\', 1]]],
    ['x\\y', [['xy', 1]]], // a lone backslash disappears
    ['a:1.3) b', [['a:1.3) b', 1]]], // a weight without its "(" is text
    ['a) b]', [['a) b]', 1]]],
    ['a: b', [['a: b', 1]]],
    ['(a:b)', [['a:b', 1.1]]],
    ['(a:-)', [['a:-', 1.1]]], // "-" alone is not a weight
    ['', [['', 1]]],
    ['a BREAK b', [['a', 1], ['BREAK', -1], ['b', 1]]],
    ['a\nBREAK\tb', [['a', 1], ['BREAK', -1], ['b', 1]]],
    ['aBREAK b', [['aBREAK b', 1]]], // not a word of its own
    ['a BREAKs', [['a BREAKs', 1]]],
    ['a break b', [['a break b', 1]]],
    ['BREAK', [['', 1], ['BREAK', -1], ['', 1]]],
    ['(a BREAK b)', [['a', 1.1], ['BREAK', -1.1], ['b', 1.1]]], // webui quirk: no break inside brackets
  ];

  it('gives the webui pieces and weights', () => {
    const got = pieces(table.map(([prompt]) => prompt));
    table.forEach(([prompt, expected], i) => assert.deepEqual(got[i], expected, JSON.stringify(prompt)));
  });

  it('treats everything as text in emphasis mode None', () => {
    const [r] = batch<TokenizedPrompt>(['(a:1.3) BREAK [b]'], ['--emphasis', 'None']);
    assert.deepEqual(r!.pieces, [{ text: '(a:1.3) BREAK [b]', weight: 1 }]);
    assert.equal(r!.chunks.length, 1);
    assert.ok(r!.chunks[0]!.weights.every((w) => w === 1));
  });

  it('refuses a bracketed weight that is not a number, as the webui does', () => {
    for (const prompt of ['(a:1.2.3)', '(a:.)', '[(a:+.)]']) {
      const r = driver(['tokenize', '--vocab', VOCAB, prompt]);
      assert.equal(r.status, 1, prompt);
      assert.match(r.stderr, /emphasis weight that is not a number/);
    }
  });
});

describe('A1111 chunks (sd-driver tokenize)', () => {
  it('frames one chunk as BOS + tokens + EOS padding, weights 1 outside the prompt', () => {
    const [r] = batch<TokenizedPrompt>(['cat (cat:1.3) [cat]']);
    const chunk = r!.chunks[0]!;
    assert.equal(r!.chunks.length, 1);
    assert.equal(r!.tokenCount, 3);
    assert.deepEqual(chunk.ids.slice(0, 5), [BOS, CAT, CAT, CAT, EOS]);
    assert.equal(chunk.ids.length, 77);
    assert.ok(chunk.ids.slice(4).every((id) => id === EOS));
    assert.deepEqual(chunk.weights.slice(0, 5), [1, 1, 1.3, 1 / 1.1, 1]);
    assert.ok(chunk.weights.slice(4).every((w) => w === 1));
  });

  it('gives the empty prompt one chunk of BOS and 76 EOS', () => {
    const [r] = batch<TokenizedPrompt>(['']);
    assert.equal(r!.chunks.length, 1);
    assert.deepEqual(r!.chunks[0]!.ids, [BOS, ...Array<number>(76).fill(EOS)]);
    assert.equal(r!.tokenCount, 0);
  });

  it('starts a new chunk at BREAK, even an empty one', () => {
    const [ab, leading, trailing] = batch<TokenizedPrompt>(['a BREAK cat', 'BREAK a', 'a BREAK']);
    assert.equal(ab!.chunks.length, 2);
    assert.deepEqual(ab!.chunks[0]!.ids.slice(0, 3), [BOS, A, EOS]);
    assert.deepEqual(ab!.chunks[1]!.ids.slice(0, 3), [BOS, CAT, EOS]);
    assert.equal(ab!.tokenCount, 76); // the webui counts a BREAK-ended chunk as full
    assert.equal(leading!.chunks.length, 2);
    assert.deepEqual(leading!.chunks[0]!.ids, [BOS, ...Array<number>(76).fill(EOS)]);
    assert.equal(trailing!.chunks.length, 1);
  });

  it('moves the words after the last comma to the next chunk (comma_padding_backtrack)', () => {
    // 70 x cat, a comma, then 10 x cat: the chunk fills at 75 with the comma 5 back.
    const prompt = `${'cat '.repeat(70)}, ${'cat '.repeat(10)}`;
    const [withBacktrack] = batch<TokenizedPrompt>([prompt]);
    const [without] = batch<TokenizedPrompt>([prompt], ['--comma-backtrack', '0']);
    const first = withBacktrack!.chunks[0]!.ids;
    assert.equal(withBacktrack!.chunks.length, 2);
    assert.equal(first[71], COMMA);
    assert.ok(first.slice(72).every((id) => id === EOS));
    assert.equal(withBacktrack!.chunks[1]!.ids.filter((id) => id === CAT).length, 10);
    assert.equal(withBacktrack!.tokenCount, 85);

    assert.equal(without!.chunks.length, 2);
    assert.deepEqual(without!.chunks[0]!.ids.slice(72, 77), [CAT, CAT, CAT, CAT, EOS]);
    assert.equal(without!.chunks[1]!.ids.filter((id) => id === CAT).length, 6);
    assert.equal(without!.tokenCount, 81);
  });

  it('handles a huge prompt in bounded time', () => {
    const file = join(work, 'huge.txt');
    writeFileSync(file, `${'masterpiece, (best quality:1.2), [[bad]] BREAK '.repeat(20000)}${'a'.repeat(200000)}`);
    const start = Date.now();
    const r = driver(['tokenize', '--vocab', VOCAB, '--prompt-file', file]);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as TokenizedPrompt;
    assert.ok(result.chunks.length > 20000); // one per BREAK, then the long word's
    assert.deepEqual(result.chunks[0]!.ids.slice(0, 3), [BOS, MASTERPIECE, COMMA]);
    assert.ok(Date.now() - start < 20000);
  });

  it('refuses absurdly deep brackets instead of working for minutes', () => {
    const file = join(work, 'nested.txt');
    writeFileSync(file, '(a'.repeat(100000));
    const start = Date.now();
    const r = driver(['tokenize', '--vocab', VOCAB, '--prompt-file', file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /too many brackets/);
    assert.ok(Date.now() - start < 20000);
  });
});

describe('CLIP tokenizer text clean-up (ftfy, whitespace, lower case)', () => {
  const table: [string, string][] = [
    ['&lt;3 &amp; &quot;x&quot; &#39;y&#39; &#x27;z&#X27;', '<3 & "x" \'y\' \'z\''],
    ['fish &amp;amp; chips', 'fish & chips'],
    ['P&EACUTE;REZ BUNDESSTRA&SZLIG;E', 'pérez bundesstrasse'],
    ['&nTILDE; &checkmark; &#12ab; &#x; &amp', '&ntilde; ✓ &#12ab; &#x; &amp'],
    ['<b>&amp;</b>', '<b>&amp;</b>'], // a line with "<" is not unescaped...
    ['a &amp;\n<b>\n&amp;', 'a & <b> &amp;'], // ...nor any line after it
    ['ﬂuﬃeﬆ', 'fluffiest'],
    ['ＬＯＵＤ\u3000ＮＯＩＳＥＳ', 'loud noises'],
    ['\u201chere\u2019s\u201d', '"here\'s"'],
    ['\x93quoted\x94 \x85', '"quoted" …'], // C1 controls read as Windows-1252
    ['\x1b[36;44mblue\x1b[0m', 'blue'],
    ['a\u0000b\ufeffc\u206a', 'abc'],
    ['e\u0301 \u1100\u1161\u11a8', '\u00e9 \uac01'], // NFC
    ['ΟΔΟΣ ΟΔΟΣ.', 'οδο\u03c2 οδο\u03c2.'], // final sigma
    ['İ', 'i\u0307'],
    ['  a\u3000b\u2028c\u00a0 ', 'a b c'],
    ['CAFÉ Ünïcödé', 'café ünïcödé'],
  ];

  it('matches ftfy.fix_text + whitespace_clean + str.lower()', () => {
    const got = batch<{ text: string }>(
      table.map(([input]) => input),
      ['--mode', 'clean'],
    );
    table.forEach(([input, expected], i) => assert.equal(got[i]!.text, expected, JSON.stringify(input)));
  });

  it('reads invalid UTF-8 as U+FFFD instead of failing', () => {
    const file = join(work, 'bad.bin');
    writeFileSync(file, Buffer.from([0x61, 0xff, 0x62, 0xed, 0xa0, 0x80, 0xc3]));
    const r = driver(['tokenize', '--vocab', VOCAB, '--mode', 'compvis', '--prompt-file', file]);
    assert.equal(r.status, 0, r.stderr);
    const fromBytes = JSON.parse(r.stdout) as { tokens: number[] };
    const fromString = loadAddon().clipTokenize('a\ufffdb\ufffd\ufffd\ufffd\ufffd', { vocab: VOCAB });
    assert.deepEqual(fromBytes.tokens, fromString.tokens);
    assert.equal(fromBytes.tokens[0], A);
  });
});

describe('emphasis on encoder output (sd-driver emphasis)', () => {
  function apply(mode: string, z: number[], weights: number[], hidden: number, chunkRows: number): number[] {
    const file = join(work, 'emphasis.json');
    writeFileSync(file, JSON.stringify({ hidden, chunkRows, z, weights }));
    const r = driver(['emphasis', '--mode', mode, '--input', file]);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { z: number[] }).z;
  }
  const f = Math.fround;

  it('Original: multiplies each row, then restores each chunk mean', () => {
    // Two chunks of 2 rows x 2 values; each chunk keeps its own mean.
    const z = [1, 2, 3, 4, -1, 0.5, 2, 2];
    const weights = [1, 2, 1.1, 1];
    const got = apply('Original', z, weights, 2, 2);
    const expected: number[] = [];
    for (const chunk of [0, 1]) {
      const rows = [0, 1].map((r) => z.slice((chunk * 2 + r) * 2, (chunk * 2 + r) * 2 + 2));
      const mean0 = rows.flat().reduce((a, b) => a + b, 0) / 4;
      const scaled = rows.flatMap((row, r) => row.map((v) => f(v * f(weights[chunk * 2 + r]!))));
      const mean1 = scaled.reduce((a, b) => a + b, 0) / 4;
      const k = f(f(mean0) / f(mean1));
      expected.push(...scaled.map((v) => f(v * k)));
    }
    assert.deepEqual(got, expected);
  });

  it('No norm multiplies only; Ignore and None leave the output alone', () => {
    const z = [1, 2, 3, 4];
    assert.deepEqual(apply('No norm', z, [1, 2], 2, 2), [1, 2, 6, 8]);
    assert.deepEqual(apply('Ignore', z, [1, 2], 2, 2), z);
    assert.deepEqual(apply('None', z, [1, 2], 2, 2), z);
  });
});

describe('addon tokenize / clipTokenize', () => {
  it('returns the same chunks as the driver', () => {
    const prompt = 'masterpiece, (best quality:1.2), [blurry] BREAK a cat';
    const [fromDriver] = batch<TokenizedPrompt>([prompt]);
    assert.deepEqual(loadAddon().tokenize(prompt, { vocab: VOCAB }), fromDriver);
  });

  it('frames CompVis ids: BOS, the first 75 tokens, EOS, padding', () => {
    const r = loadAddon().clipTokenize('cat '.repeat(80), { vocab: VOCAB });
    assert.equal(r.tokens.length, 80);
    assert.deepEqual(r.ids, [BOS, ...Array<number>(75).fill(CAT), EOS]);
  });

  it('explains a missing vocabulary and a bad option', () => {
    assert.throws(() => loadAddon().tokenize('a', { vocab: join(work, 'missing.gz') }), /cannot read the CLIP vocabulary/);
    assert.throws(() => loadAddon().tokenize('a', { vocab: VOCAB, emphasis: 'Loud' as 'None' }), /unknown emphasis mode/);
    assert.throws(() => (loadAddon().tokenize as (p: string) => unknown)('a'), /tokenize\(prompt, \{vocab/);
  });

  it('tokenizes a 1000-token prompt well under 10 ms', (t) => {
    const prompt = 'a highly detailed digital painting of a majestic ancient castle, '.repeat(90);
    const addon = loadAddon();
    const vocab = join(work, 'vocab-copy.gz');
    copyFileSync(VOCAB, vocab); // a path not loaded yet: the first call includes the load
    let start = performance.now();
    const first = addon.tokenize(prompt, { vocab });
    const firstMs = performance.now() - start;
    assert.ok(first.tokenCount >= 1000, `${first.tokenCount} tokens`);
    start = performance.now();
    const runs = 20;
    for (let i = 0; i < runs; i++) addon.tokenize(prompt, { vocab });
    const eachMs = (performance.now() - start) / runs;
    t.diagnostic(`vocabulary load + first call ${firstMs.toFixed(1)} ms; ${first.tokenCount} tokens in ${eachMs.toFixed(2)} ms`);
    assert.ok(eachMs < 10, `${eachMs} ms`);
    assert.ok(firstMs < 1000, `${firstMs} ms`);
  });
});

describe('tokenizer conformance cases through the addon', () => {
  it('passes every tokenizer, tokenizer_ftfy and tokenizer_a1111_chunks case of tiny-sd1', async () => {
    const failed: string[] = [];
    let count = 0;
    // "tokeniz" selects the kinds tokenizer, tokenizer_ftfy and tokenizer_a1111_chunks.
    await loadAddon().runConformance('test/fixtures/tiny-sd1', { filter: 'tokeniz' }, (c) => {
      count++;
      if (!c.passed) failed.push(c.line);
    });
    assert.deepEqual(failed, []);
    assert.equal(count, 22);
  });
});
