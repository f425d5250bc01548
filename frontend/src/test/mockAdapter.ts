import { AxiosError, AxiosHeaders, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

export interface MockReply {
  status: number;
  data?: unknown;
}

export type Handler = (config: InternalAxiosRequestConfig) => MockReply | Promise<MockReply>;

/** An axios adapter answering from `handler`, rejecting non-2xx like the real adapters do. */
export function mockAdapter(handler: Handler, calls: InternalAxiosRequestConfig[] = []): AxiosAdapter {
  return async (config) => {
    calls.push(config);
    const reply = await handler(config);
    const response: AxiosResponse = {
      status: reply.status,
      statusText: String(reply.status),
      data: reply.data,
      headers: new AxiosHeaders(),
      config,
    };
    if (reply.status >= 200 && reply.status < 300) return response;
    throw new AxiosError(`Request failed with status code ${reply.status}`, AxiosError.ERR_BAD_RESPONSE, config, null, response);
  };
}

export function header(config: InternalAxiosRequestConfig, name: string): string | undefined {
  const v = AxiosHeaders.from(config.headers).get(name);
  return v == null ? undefined : String(v);
}

export function body(config: InternalAxiosRequestConfig): Record<string, unknown> {
  return typeof config.data === 'string' ? (JSON.parse(config.data) as Record<string, unknown>) : (config.data as Record<string, unknown>);
}
