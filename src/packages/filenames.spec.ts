import {
  checkDistributionFilename,
  InvalidFilenameError,
  parseSdistFilename,
  parseWheelFilename,
} from './filenames.js';

describe('wheel filenames (PEP 427/491)', () => {
  it('parses name, version and tags', () => {
    const wheel = parseWheelFilename('demo_pkg-1.0.0-py3-none-any.whl');
    expect(wheel).toMatchObject({
      name: 'demo-pkg',
      versionPart: '1.0.0',
      build: null,
      pythonTag: 'py3',
      tags: ['py3-none-any'],
    });
  });

  it('expands compressed tag sets and reads build tags', () => {
    const wheel = parseWheelFilename('six-1.16.0-1abc-py2.py3-none-any.whl');
    expect(wheel.build).toEqual({ number: 1, rest: 'abc' });
    expect(wheel.tags).toEqual(['py2-none-any', 'py3-none-any']);
    expect(wheel.pythonTag).toBe('py2.py3');
    expect(
      parseWheelFilename('numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl')
        .tags,
    ).toHaveLength(2);
  });

  it.each([
    ['foo-1.0.whl', 'wrong number of parts'],
    ['foo-1.0-py3-none-any.tar.gz', "extension must be '.whl'"],
    ['foo-1.0-x-py3-none-any.whl', 'Invalid build number'],
    ['foo-dog-py3-none-any.whl', 'invalid version'],
    ['foo__bar-1.0-py3-none-any.whl', 'Invalid project name'],
    ['foo bar-1.0-py3-none-any.whl', 'Invalid project name'],
    ['foo-1.0-py3-none-any-x-y.whl', 'wrong number of parts'],
  ])('refuses %s', (filename, message) => {
    expect(() => parseWheelFilename(filename)).toThrow(message);
  });
});

describe('sdist filenames (PEP 625 and legacy)', () => {
  it('parses PEP 625 names', () => {
    expect(parseSdistFilename('acme_widgets-1.0.tar.gz')).toMatchObject({
      name: 'acme-widgets',
      versionPart: '1.0',
      pep625: true,
    });
  });

  it('accepts the legacy unnormalised form older setuptools writes', () => {
    const sdist = parseSdistFilename('acme-widgets-1.0.tar.gz', 'acme_widgets');
    expect(sdist).toMatchObject({ name: 'acme-widgets', versionPart: '1.0', pep625: false });
    expect(parseSdistFilename('Acme.Widgets-1.0.zip', 'acme-widgets')).toMatchObject({
      extension: '.zip',
      name: 'acme-widgets',
    });
  });

  it('splits on the name it expects when the version carries a dash', () => {
    expect(parseSdistFilename('foo-1.0-1.tar.gz', 'foo')).toMatchObject({
      name: 'foo',
      versionPart: '1.0-1',
    });
  });

  it.each(['foo.tar.gz', 'foo-1.0.tar.bz2', 'foo-1.0.tgz', 'foo-dog.tar.gz', 'f@o-1.0.tar.gz'])(
    'refuses %s',
    (filename) => {
      expect(() => parseSdistFilename(filename)).toThrow(InvalidFilenameError);
    },
  );
});

describe('checking an upload filename', () => {
  it('accepts a wheel and an sdist matching the form', () => {
    expect(
      checkDistributionFilename('demo_pkg-1.0-py3-none-any.whl', 'bdist_wheel', 'Demo.Pkg', '1.0'),
    ).toMatchObject({
      pythonVersion: 'py3',
    });
    expect(
      checkDistributionFilename('demo-pkg-1.0.tar.gz', 'sdist', 'demo_pkg', '1.0.0'),
    ).toMatchObject({
      pythonVersion: 'source',
    });
  });

  it.each([
    [
      'other-1.0-py3-none-any.whl',
      'bdist_wheel',
      'demo',
      '1.0',
      "Start filename for 'demo' with 'demo'.",
    ],
    [
      'demo-2.0-py3-none-any.whl',
      'bdist_wheel',
      'demo',
      '1.0',
      "Version in filename should be '1.0' not '2.0'.",
    ],
    [
      'demo-1.0.tar.gz',
      'bdist_wheel',
      'demo',
      '1.0',
      'Extension .tar.gz is invalid for filetype bdist_wheel',
    ],
    [
      'demo-1.0-py3-none-any.whl',
      'sdist',
      'demo',
      '1.0',
      'Extension .whl is invalid for filetype sdist',
    ],
    [
      'demo-1.0.tar.bz2',
      'sdist',
      'demo',
      '1.0',
      'Invalid file extension: Use .tar.gz, .whl or .zip',
    ],
    ['demo-1.0.egg', 'sdist', 'demo', '1.0', 'Invalid file extension'],
    [
      '../demo-1.0.tar.gz',
      'sdist',
      'demo',
      '1.0',
      "Cannot upload a file with '/' or '\\' in the name.",
    ],
    ['demo\\x-1.0.tar.gz', 'sdist', 'demo', '1.0', "Cannot upload a file with '/'"],
    ['demo\u0007-1.0.tar.gz', 'sdist', 'demo', '1.0', 'non-printable characters'],
    ['..', 'sdist', 'demo', '1.0', "may not start with '.'"],
    ['démo-1.0.tar.gz', 'sdist', 'demo', '1.0', 'ASCII'],
    ['demo-1.1.tar.gz', 'sdist', 'demo', '1.0', "Version in filename should be '1.0' not '1.1'."],
  ] as const)('refuses %j', (filename, filetype, name, version, message) => {
    expect(() => checkDistributionFilename(filename, filetype, name, version)).toThrow(message);
  });
});
