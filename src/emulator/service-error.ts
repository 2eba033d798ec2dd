/**
 * The emulator's refusals: an HTTP status, the `x-amzn-ErrorType` the real service would send, a
 * message close to the service's, and a stable `reason` code of our own. The reason never goes on
 * the wire as the error type; it is recorded with the request (and sent in `x-emulator-reason`) so
 * tests can check that a request was refused for the right cause, not merely refused.
 */
export type RejectReason =
  // routing and framing
  | 'UNKNOWN_OPERATION'
  | 'BODY_TOO_LARGE'
  // authentication (SigV4 X.509)
  | 'AUTH_MISSING'
  | 'AUTH_MALFORMED'
  | 'DATE_MISSING'
  | 'DATE_MALFORMED'
  | 'SIGNATURE_EXPIRED'
  | 'SIGNATURE_NOT_YET_CURRENT'
  | 'SCOPE_INVALID'
  | 'SCOPE_DATE_MISMATCH'
  | 'SCOPE_REGION_MISMATCH'
  | 'SIGNED_HEADERS_MALFORMED'
  | 'SIGNED_HEADER_REQUIRED'
  | 'SIGNED_HEADER_ABSENT'
  | 'CERT_MISSING'
  | 'CERT_MALFORMED'
  | 'SERIAL_MISMATCH'
  | 'ALGORITHM_UNKNOWN'
  | 'ALGORITHM_MISMATCH'
  | 'SIGNATURE_MISMATCH'
  // request validation
  | 'CONTENT_TYPE'
  | 'BODY_MALFORMED'
  | 'ARN_MISSING'
  | 'ARN_INVALID'
  | 'ARN_CONFLICT'
  | 'DURATION_INVALID'
  | 'SESSION_NAME_INVALID'
  // certificates and chain
  | 'LEAF_NOT_V3'
  | 'LEAF_IS_CA'
  | 'LEAF_NO_DIGITAL_SIGNATURE'
  | 'LEAF_WEAK_SIGNATURE'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CHAIN_MALFORMED'
  | 'CHAIN_TOO_LONG'
  | 'CHAIN_UNTRUSTED'
  | 'INTERMEDIATE_NOT_CA'
  | 'INTERMEDIATE_NO_KEY_CERT_SIGN'
  | 'PATH_LENGTH_EXCEEDED'
  // resources and policy
  | 'TRUST_ANCHOR_UNKNOWN'
  | 'TRUST_ANCHOR_DISABLED'
  | 'PROFILE_UNKNOWN'
  | 'PROFILE_DISABLED'
  | 'ROLE_UNKNOWN'
  | 'ROLE_NOT_IN_PROFILE'
  | 'ROLE_NOT_TRUSTING_ANCHOR'
  | 'SESSION_NAME_NOT_ACCEPTED'
  // injected
  | 'FAULT_INJECTED'
  | 'THROTTLED'
  // a bug in the emulator itself
  | 'INTERNAL';

export interface ServiceError {
  readonly status: number;
  readonly errorType: string;
  readonly message: string;
  readonly reason: RejectReason;
}

export function isServiceError(x: unknown): x is ServiceError {
  return typeof x === 'object' && x !== null && 'errorType' in x && 'reason' in x && 'status' in x;
}

export function accessDenied(reason: RejectReason, message: string): ServiceError {
  return { status: 403, errorType: 'AccessDeniedException', message, reason };
}

export function validation(reason: RejectReason, message: string): ServiceError {
  return { status: 400, errorType: 'ValidationException', message, reason };
}

/** The error type AWS services send with each status the fault injector may be asked for. */
export function defaultErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'ValidationException';
    case 403:
      return 'AccessDeniedException';
    case 404:
      return 'ResourceNotFoundException';
    case 429:
      return 'ThrottlingException';
    case 500:
      return 'InternalServerException';
    case 503:
      return 'ServiceUnavailableException';
    default:
      return status >= 500 ? 'InternalServerException' : 'ValidationException';
  }
}

/** The JSON body AWS REST-JSON services send with an error. */
export function errorBody(e: ServiceError): string {
  return JSON.stringify({ message: e.message });
}
