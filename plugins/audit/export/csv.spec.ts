import { csvCell, csvLine } from './csv.js';

describe('CSV cells', () => {
  it('quotes commas, quotes and line breaks as RFC 4180 says, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(42)).toBe('42');
  });

  it('defuses cells a spreadsheet would run as formulas', () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    // Numbers are not text a user chose: a negative number stays a number.
    expect(csvCell(-1)).toBe('-1');
  });

  it('writes JSON objects as one quoted cell and ends records with CRLF', () => {
    expect(csvLine(['x', { a: 'b,c' }, null])).toBe('x,"{""a"":""b,c""}",\r\n');
  });
});
