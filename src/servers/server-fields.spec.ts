import { isHostAddress } from './server-fields.js';

describe('isHostAddress', () => {
  it.each(['10.0.0.5', '127.0.0.1', '::1', 'fe80::1', 'localhost', 'eu-1.example.com', 'host.example.com.', 'a'.repeat(63)])('accepts %s', (host) => {
    expect(isHostAddress(host)).toBe(true);
  });

  it.each(['', '999.1.1.1', '10.0.0', '-lead.example.com', 'trail-.example.com', 'a b', 'host;id', '$(reboot)', 'a..b', 'a'.repeat(64), `${'a'.repeat(60)}.`.repeat(5), 42])(
    'refuses %p',
    (host) => {
      expect(isHostAddress(host)).toBe(false);
    },
  );
});
