import {
  checkMetadataAgrees,
  description,
  field,
  fieldList,
  InvalidMetadataError,
  parseCoreMetadata,
} from './metadata.js';

describe('core metadata (METADATA / PKG-INFO)', () => {
  const text = [
    'Metadata-Version: 2.1',
    'Name: Demo.Pkg',
    'Version: 1.0.0',
    'Summary: A demo',
    'Requires-Python: >=3.8',
    'Classifier: Programming Language :: Python',
    'Classifier: License :: OSI Approved',
    'Requires-Dist: requests (>=2)',
    'Requires-Dist: tomli ; python_version < "3.11"',
    'Project-URL: Home, https://example.org',
    'Keywords: a,b',
    'License: Line one',
    '        continued',
    'Author: UNKNOWN',
    '',
    '# Title',
    '',
    'Body text ü.',
  ].join('\n');

  it('reads single and repeated fields, continuations and the body', () => {
    const md = parseCoreMetadata(Buffer.from(text));
    expect(field(md, 'name')).toBe('Demo.Pkg');
    expect(fieldList(md, 'Classifier')).toEqual([
      'Programming Language :: Python',
      'License :: OSI Approved',
    ]);
    expect(fieldList(md, 'requires-dist')).toHaveLength(2);
    expect(field(md, 'License')).toBe('Line one\n        continued');
    expect(field(md, 'Author')).toBeNull();
    expect(description(md)).toBe('# Title\n\nBody text ü.');
  });

  it('reads a metadata 1.x Description header with its | continuation', () => {
    const md = parseCoreMetadata(
      'Metadata-Version: 1.1\nName: x\nVersion: 1\nDescription: First\n        |second\n        third\n',
    );
    expect(description(md)).toBe('First\nsecond\nthird');
  });

  it('refuses invalid UTF-8 and NUL bytes', () => {
    expect(() => parseCoreMetadata(Buffer.from([0x4e, 0x61, 0xff, 0x0a]))).toThrow(
      'not valid UTF-8',
    );
    expect(() => parseCoreMetadata('Name: a\0b\n')).toThrow(InvalidMetadataError);
  });

  it('checks name and version agree with the form, after normalisation', () => {
    const md = parseCoreMetadata(text);
    expect(() => checkMetadataAgrees(md, 'demo-pkg', '1.0', 'METADATA')).not.toThrow();
    expect(() => checkMetadataAgrees(md, 'other', '1.0', 'METADATA')).toThrow(
      "The name in METADATA ('Demo.Pkg')",
    );
    expect(() => checkMetadataAgrees(md, 'demo-pkg', '1.0.1', 'METADATA')).toThrow(
      "The version in METADATA ('1.0.0')",
    );
    expect(() => checkMetadataAgrees(parseCoreMetadata('Name: x\n'), 'x', '1', 'PKG-INFO')).toThrow(
      'metadata_version',
    );
  });
});
