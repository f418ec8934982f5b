import { authorize } from '../../lib/api/auth.ts';
import { ForbiddenError, UnauthorizedError } from '../../lib/core/errors.ts';

describe('API keys', () => {
  it('leaves publishing open when no publish key is configured', () => {
    expect(() => authorize('publish', undefined, [])).not.toThrow();
  });

  it('keeps administration disabled when no admin key is configured, whatever is sent', () => {
    expect(() => authorize('admin', 'anything', [])).toThrow(ForbiddenError);
    expect(() => authorize('admin', undefined, [])).toThrow(/set ADMIN_API_KEYS/);
  });

  it.each(['publish', 'admin'] as const)('%s: no key is 401, a wrong key 403, any configured key passes', (access) => {
    const keys = ['first-key', 'second-key'];
    expect(() => authorize(access, undefined, keys)).toThrow(UnauthorizedError);
    expect(() => authorize(access, '', keys)).toThrow(UnauthorizedError);
    expect(() => authorize(access, 'first-key ', keys)).toThrow(ForbiddenError);
    expect(() => authorize(access, 'first', keys)).toThrow(ForbiddenError);
    expect(() => authorize(access, 'first-key', keys)).not.toThrow();
    expect(() => authorize(access, 'second-key', keys)).not.toThrow();
  });
});
