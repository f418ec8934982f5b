// How the SDK clients retry: AWS's standard strategy (exponential backoff with full jitter, a longer
// base for throttling errors, a retry quota), with two limits of our own. A throttle
// (ProvisionedThroughputExceededException, ThrottlingException, RequestThrottled) is an answer in
// milliseconds that says "later", so it is retried up to `maxThrottledAttempts` times; anything else
// (a timeout, a 5xx) at most `maxAttempts` times, because each try may take a whole request timeout.
// And every call stops retrying once `budgetMs` has passed since it started, so a function still
// answers within its own timeout.
//
// Found by strict mode (docs/strict-mode.md): with the SDK's plain attempt count (2 for the HTTP
// functions), 2% of throttled calls made GET /stats, which makes ten calls, answer 503 about once in
// 250 requests, and a fold in a test that used the same client gave up mid-run.
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken as RetryToken } from '@smithy/types';

export interface RetryLimits {
  /** Tries of a call that failed for another reason than throttling. */
  maxAttempts: number;
  /** Tries of a call that keeps being throttled. */
  maxThrottledAttempts: number;
  /** No retry starts after this long since the call's first try (ms). */
  budgetMs: number;
}

export class PatientRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  private readonly standard: StandardRetryStrategy;
  private readonly started = new WeakMap<RetryToken, number>();

  constructor(private readonly limits: RetryLimits) {
    this.standard = new StandardRetryStrategy(Math.max(limits.maxAttempts, limits.maxThrottledAttempts));
  }

  async acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    const token = await this.standard.acquireInitialRetryToken(scope);
    this.started.set(token, Date.now());
    return token;
  }

  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const started = this.started.get(token) ?? Date.now();
    const tries = token.getRetryCount() + 1;
    if (errorInfo.errorType !== 'THROTTLING' && tries >= this.limits.maxAttempts) throw new Error('No retry token available: out of attempts');
    if (Date.now() - started >= this.limits.budgetMs) throw new Error('No retry token available: out of time');
    const next = await this.standard.refreshRetryTokenForRetry(token, errorInfo);
    this.started.set(next, started);
    return next;
  }

  recordSuccess(token: RetryToken): void {
    this.standard.recordSuccess(token);
  }
}
