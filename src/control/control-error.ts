/** The control endpoint's refusals: an HTTP status and a stable API error code. */
import { DnsError } from '../errors.js';

/** A request the control endpoint refuses (bad name, unknown type...): HTTP `status`. */
export class ControlError extends DnsError {
  readonly status: number;
  /** The API's error code (`ERR_ZONE_NOT_DYNAMIC`...), sent as `error.code`; by status when not given. */
  readonly apiCode: string;

  constructor(message: string, status = 400, apiCode?: string) {
    super('ERR_DNS_CONTROL', message, 2);
    this.status = status;
    this.apiCode = apiCode ?? apiCodeForStatus(status);
  }
}

/** The API error code a status stands for when nothing more precise is known. */
export function apiCodeForStatus(status: number): string {
  switch (status) {
    case 400: return 'ERR_BAD_REQUEST';
    case 401: return 'ERR_UNAUTHORIZED';
    case 404: return 'ERR_NOT_FOUND';
    case 405: return 'ERR_METHOD_NOT_ALLOWED';
    case 409: return 'ERR_CONFLICT';
    case 413: return 'ERR_BODY_TOO_LARGE';
    case 503: return 'ERR_UNAVAILABLE';
    case 504: return 'ERR_TIMEOUT';
    default: return 'ERR_INTERNAL';
  }
}

