import type { LookupAddress } from 'node:dns';
import { forbiddenAddress, fileNameFor, lookupVia } from './stream-guard.js';

describe('webhook address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.100.100.200', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local'],
    ['0:0:0:0:0:ffff:192.168.0.1', 'IPv4-mapped private'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['64:ff9b::a00:1', 'NAT64 private'],
  ])('refuses %s (%s)', (ip, why) => {
    expect(forbiddenAddress(ip)).toBe(why);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '172.15.255.255',
    '169.253.1.1',
    '100.128.0.1',
    '11.0.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2001:db8::1',
  ])('allows %s', (ip) => {
    expect(forbiddenAddress(ip)).toBeNull();
  });
});

describe('guarded lookup', () => {
  const resolving =
    (addresses: LookupAddress[]) =>
    (_host: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void) =>
      callback(null, addresses);
  const ask = (addresses: LookupAddress[], all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((ok) =>
      (lookupVia(resolving(addresses)) as (...args: unknown[]) => void)(
        'receiver.example',
        { all },
        (err: NodeJS.ErrnoException | null, address: unknown, family?: number) =>
          ok({ err, address, family }),
      ),
    );
  const publicOnes = [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:220:1::1', family: 6 },
  ];

  it('answers net in both shapes when every address is allowed', async () => {
    expect(await ask(publicOnes, true)).toEqual({ err: null, address: publicOnes });
    expect(await ask(publicOnes, false)).toEqual({
      err: null,
      address: '93.184.216.34',
      family: 4,
    });
  });

  it('fails when any address is forbidden, naming it', async () => {
    const { err } = await ask([...publicOnes, { address: '169.254.169.254', family: 4 }], true);
    expect(err?.code).toBe('EADDRFORBIDDEN');
    expect(err?.message).toMatch(
      /^refused: receiver\.example \(resolves to 169\.254\.169\.254\) is a forbidden address \(link-local\)/,
    );
  });
});

describe('file destination names', () => {
  const dir = '/srv/larder/audit-streams';
  it('takes a plain name, or an absolute path directly in the directory as its name', () => {
    expect(fileNameFor('audit.jsonl', dir)).toBe('audit.jsonl');
    expect(fileNameFor('a_b-c.2', dir)).toBe('a_b-c.2');
    expect(fileNameFor(`${dir}/audit.jsonl`, dir)).toBe('audit.jsonl');
    expect(fileNameFor(`${dir}/x/../audit.jsonl`, dir)).toBe('audit.jsonl');
  });

  it.each(['../x', 'x/y', '.bashrc', '..', '', 'a b', `${dir}/sub/x`, `${dir}/../x`, '/etc/x'])(
    'refuses %j',
    (target) => {
      expect(() => fileNameFor(target, dir)).toThrow(dir);
    },
  );
});
