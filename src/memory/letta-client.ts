/**
 * The one place that builds Letta API clients. The SDK's own retries are always off: a retried
 * message write can be processed twice, and a retried read would blow the session-start budget.
 * Callers that retry do it themselves, with their own rules.
 */
import Letta from '@letta-ai/letta-client';

export interface LettaEndpoint {
  baseURL: string;
  apiKey?: string;
}

export function createLettaClient(endpoint: LettaEndpoint, timeoutMs: number): Letta {
  return new Letta({
    baseURL: endpoint.baseURL,
    // null, not undefined: undefined would make the SDK read LETTA_API_KEY behind our back.
    apiKey: endpoint.apiKey ?? null,
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
  });
}
