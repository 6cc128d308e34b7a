/** An Omise error answer: `{"object":"error","location":...,"code":...,"message":...}` with its HTTP status. */
export class OmiseApiError extends Error {
  override name = 'OmiseApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): OmiseErrorObject {
    return errorBody(this.code, this.message);
  }
}

export interface OmiseErrorObject {
  object: 'error';
  location: string;
  code: string;
  message: string;
}

export function errorBody(code: string, message: string): OmiseErrorObject {
  return {
    object: 'error',
    location: `https://www.omise.co/api-errors#${code.replace(/_/g, '-')}`,
    code,
    message,
  };
}

export const badRequest = (message: string) => new OmiseApiError(400, 'bad_request', message);
export const authenticationFailure = () =>
  new OmiseApiError(401, 'authentication_failure', 'authentication failed');
export const notFound = (kind: string, id: string) =>
  new OmiseApiError(404, 'not_found', `${kind} ${id} was not found`);
