import { isIP, type BlockList } from 'node:net';

export function normalise(address: string): string {
  // Node reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d.
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether `address` is one of the proxies whose X-Forwarded-For is believed. */
export function trusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client's address. X-Forwarded-For is read right to left and believed only while each
 * hop is a trusted proxy, so a client cannot forge its address by sending the header itself.
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  proxies: BlockList,
): string | null {
  if (!peer) return null;
  let address = normalise(peer);
  if (!forwardedFor || !trusted(proxies, address)) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((hop) => normalise(hop.trim()))
    .filter(Boolean);
  while (hops.length > 0) {
    const hop = hops.pop()!;
    if (isIP(hop) === 0) return address;
    address = hop;
    if (!trusted(proxies, address)) return address;
  }
  return address;
}
