import { parseCidrs } from '../config/config.js';
import { clientIp } from './client-ip.js';

describe('clientIp', () => {
  const proxies = parseCidrs('LARDER_TRUSTED_PROXIES', ['10.0.0.0/8']);

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientIp('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
  });

  it('believes X-Forwarded-For from a trusted proxy', () => {
    expect(clientIp('10.0.0.2', '198.51.100.1', proxies)).toBe('198.51.100.1');
  });

  it('stops at the first untrusted hop, so a client cannot prepend a forged address', () => {
    expect(clientIp('10.0.0.2', '1.2.3.4, 198.51.100.1, 10.0.0.7', proxies)).toBe('198.51.100.1');
  });

  it('keeps the last trusted address when a hop is not an address at all', () => {
    expect(clientIp('10.0.0.2', 'garbage, 10.0.0.5', proxies)).toBe('10.0.0.5');
  });

  it('reports IPv4-mapped IPv6 peers as IPv4', () => {
    expect(clientIp('::ffff:10.0.0.2', '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientIp('::ffff:192.0.2.1', undefined, proxies)).toBe('192.0.2.1');
  });

  it('has no address for a request without a peer', () => {
    expect(clientIp(undefined, undefined, proxies)).toBeNull();
  });
});
