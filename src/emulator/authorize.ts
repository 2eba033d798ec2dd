/**
 * Resource and policy checks against the emulator's config: the trust anchor and profile exist and
 * are enabled, the profile lists the role, the role's trust policy allows the trust anchor, a
 * custom role session name only where the profile accepts one, and the session length.
 *
 * Unknown trust anchors, profiles and roles are refused with 403 AccessDeniedException, not 404:
 * CreateSession is called by certificate holders, not IAM principals, and the service does not tell
 * them which of its resources exist (a disabled and a missing anchor look alike to the caller). The
 * message still names the ARN, because the emulator is also a dry-run tool; the `reason` tells them
 * apart for tests. 404 ResourceNotFoundException is available through fault injection.
 */
import { DEFAULT_PROFILE_DURATION_SECONDS, type EmulatorConfig, type ProfileConfig, type RoleConfig, type TrustAnchorConfig } from './config.js';
import { accessDenied, type ServiceError } from './service-error.js';
import type { SessionRequest } from './session-request.js';

export function findTrustAnchor(config: EmulatorConfig, arn: string): TrustAnchorConfig | ServiceError {
  const ta = config.trustAnchors.find((t) => t.arn === arn);
  if (!ta) return accessDenied('TRUST_ANCHOR_UNKNOWN', `Unable to find trust anchor ${arn}`);
  if (ta.enabled === false) return accessDenied('TRUST_ANCHOR_DISABLED', `Trust anchor ${arn} is disabled`);
  return ta;
}

export interface Grant {
  profile: ProfileConfig;
  role: RoleConfig;
  /** Seconds the credentials live. */
  durationSeconds: number;
  /** The session name to use, when the caller chose one. */
  roleSessionName?: string;
}

/**
 * The session length: the request's `durationSeconds` when given, capped by the profile's
 * (default 3600); a short-lived override (fault injection) wins over both.
 */
export function effectiveDuration(requested: number | undefined, profile: ProfileConfig, shortLivedSeconds?: number): number {
  if (shortLivedSeconds !== undefined) return shortLivedSeconds;
  const max = profile.durationSeconds ?? DEFAULT_PROFILE_DURATION_SECONDS;
  return requested === undefined ? max : Math.min(requested, max);
}

export function authorize(config: EmulatorConfig, req: SessionRequest, shortLivedSeconds?: number): Grant | ServiceError {
  const profile = config.profiles.find((p) => p.arn === req.profileArn);
  if (!profile) return accessDenied('PROFILE_UNKNOWN', `Unable to find profile ${req.profileArn}`);
  if (profile.enabled === false) return accessDenied('PROFILE_DISABLED', `Profile ${req.profileArn} is disabled`);
  const role = config.roles.find((r) => r.arn === req.roleArn);
  if (!role) return accessDenied('ROLE_UNKNOWN', `Unable to assume role for ${req.roleArn}: the role does not exist`);
  if (!profile.roleArns.includes(req.roleArn)) {
    return accessDenied('ROLE_NOT_IN_PROFILE', `Unable to assume role for ${req.roleArn}: the profile ${req.profileArn} does not list it`);
  }
  if (!role.trustAnchorArns.includes(req.trustAnchorArn)) {
    return accessDenied(
      'ROLE_NOT_TRUSTING_ANCHOR',
      `Unable to assume role for ${req.roleArn}: its trust policy does not allow rolesanywhere.amazonaws.com from trust anchor ${req.trustAnchorArn}`,
    );
  }
  if (req.roleSessionName !== undefined && !profile.acceptRoleSessionName) {
    return accessDenied('SESSION_NAME_NOT_ACCEPTED', 'Not authorized to set roleSessionName.');
  }
  const grant: Grant = { profile, role, durationSeconds: effectiveDuration(req.durationSeconds, profile, shortLivedSeconds) };
  if (req.roleSessionName !== undefined) grant.roleSessionName = req.roleSessionName;
  return grant;
}
