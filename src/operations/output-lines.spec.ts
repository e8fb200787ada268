import { LineSplitter, MAX_LINE_CHARS, parseProgress } from './output-lines.js';

describe('LineSplitter', () => {
  const feed = (chunks: (string | Buffer)[]) => {
    const splitter = new LineSplitter();
    const lines = chunks.flatMap((c) => splitter.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    return [...lines, ...splitter.end()];
  };

  it('splits at LF, CRLF and a lone CR, across chunks, and keeps an unterminated last line', () => {
    expect(feed(['a\nb', 'c\r', '\nd\re\r\n', 'f'])).toEqual(['a', 'bc', 'd', 'e', 'f']);
  });

  it('keeps empty lines and decodes UTF-8 split between chunks', () => {
    const euro = Buffer.from('€\n');
    expect(feed(['\n\n', euro.subarray(0, 1), euro.subarray(1)])).toEqual(['', '', '€']);
  });

  it('turns NUL bytes and bytes that are not UTF-8 into U+FFFD, keeping the rest of the line', () => {
    expect(feed([Buffer.from([0x61, 0x00, 0x62, 0x0a, 0xff, 0xfe, 0x63, 0x0a]), Buffer.from([0x00])])).toEqual(['a\uFFFDb', '\uFFFD\uFFFDc', '\uFFFD']);
  });

  it('cuts an endless line into bounded pieces', () => {
    const lines = feed(['x'.repeat(MAX_LINE_CHARS * 2 + 3)]);
    expect(lines.map((l) => l.length)).toEqual([MAX_LINE_CHARS, MAX_LINE_CHARS, 3]);
  });
});

describe('parseProgress', () => {
  it.each([
    [' Update state (0x61) downloading, progress: 45.12 (1234 / 5678)', 45.12],
    ['Update state (0x5) verifying install, progress: 3.456 (1 / 2)', 3.46],
    ['Update state (0x81) verifying update, progress: 100.00 (5678 / 5678)', 100],
  ])('reads %j', (line, percent) => expect(parseProgress(line)).toBe(percent));

  it.each(['progress: 45.12', 'Update state (0x61) downloading, progress: 145.0 (1 / 2)', "Success! App '730' fully installed."])(
    'ignores %j',
    (line) => expect(parseProgress(line)).toBeNull(),
  );
});
