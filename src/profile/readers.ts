/**
 * The reader of each setting of the catalogue: the schedule's, the command line's and the library's.
 * A table of its own so that the flag table and `--help` load no reader (credential-process start-up,
 * issue 17); its type requires one reader for every key of the catalogue, and no other.
 */
import {
  readArn,
  readBoolean,
  readConnectTimeout,
  readEndpoint,
  readEnvName,
  readKeySource,
  readPath,
  readRegion,
  readRoleSessionName,
  readSessionDuration,
  readWatchInterval,
  type Reader,
} from '../config/fields.js';
import type { ProfileKey } from './catalogue.js';
import { readRefresh } from './refresh.js';

export const PROFILE_READERS: { readonly [K in ProfileKey]: Reader<unknown> } = {
  certificate: readKeySource,
  private_key: readKeySource,
  private_key_password_file: readPath,
  private_key_password_env: readEnvName,
  intermediates: readPath,
  pkcs11_lib: readPath,
  pkcs11_pin_file: readPath,
  pkcs11_pin_env: readEnvName,
  reuse_pin: readBoolean,
  trust_anchor_arn: readArn('trust_anchor_arn'),
  profile_arn: readArn('profile_arn'),
  role_arn: readArn('role_arn'),
  role_session_name: readRoleSessionName,
  region: readRegion,
  endpoint: readEndpoint,
  fips: readBoolean,
  ca_bundle: readPath,
  no_verify_ssl: readBoolean,
  with_proxy: readBoolean,
  connect_timeout: readConnectTimeout,
  session_duration: readSessionDuration,
  refresh: readRefresh,
  watch_interval: readWatchInterval,
};
