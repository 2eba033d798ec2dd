import { expect } from 'chai';
import { PROFILE_KEYS, type ProfileKey } from '../../src/config/keys.js';
import { AGENT_ONLY_KEYS, camelCase, OPTION_KEYS, optionPath, toScheduleSettings, type FromRolesAnywhereOptions } from '../../src/library/options.js';

type Camel<S extends string> = S extends `${infer A}_${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
// Fails to compile when a schedule key has no option of the same name (or an option no key).
const everyKeyIsAnOption: [Exclude<Camel<ProfileKey>, keyof FromRolesAnywhereOptions | 'watchInterval'>] extends [never] ? true : false = true;
const everyOptionIsAKey: [Exclude<keyof FromRolesAnywhereOptions, Camel<ProfileKey> | 'logger' | 'env'>] extends [never] ? true : false = true;

describe('fromRolesAnywhere options: the schedule keys in camelCase', () => {
  it('names every profile key of the schedule, and nothing else but logger and env', () => {
    expect([everyKeyIsAnOption, everyOptionIsAKey]).to.deep.equal([true, true]);
    expect([...OPTION_KEYS.values()]).to.deep.equal([...PROFILE_KEYS]);
    expect([...AGENT_ONLY_KEYS.keys()].every((k) => OPTION_KEYS.has(k)), 'agent-only keys are schedule keys').to.equal(true);
    expect(OPTION_KEYS.get('trustAnchorArn')).to.equal('trust_anchor_arn');
    expect(camelCase('pkcs11_pin_file')).to.equal('pkcs11PinFile');
  });

  it('turns options into schedule settings, with the library\'s 5-minute margin and no jitter by default', () => {
    const settings = toScheduleSettings({ certificate: 'c', trustAnchorArn: 't', profileArn: 'p', roleArn: 'r', logger: {}, env: {}, sessionDuration: '2h' });
    expect({ ...settings }).to.deep.equal({
      certificate: 'c',
      trust_anchor_arn: 't',
      profile_arn: 'p',
      role_arn: 'r',
      session_duration: '2h',
      refresh: { before_expiry: '5m', jitter: 0 },
    });
  });

  it('passes an unknown option on in snake_case, so the schedule reader names it with a did-you-mean', () => {
    const settings = toScheduleSettings({ roleArnn: 'x' } as unknown as FromRolesAnywhereOptions);
    expect(Object.keys(settings)).to.deep.equal(['role_arnn', 'refresh']);
  });

  it('reports issue paths in the options\' spelling', () => {
    expect(optionPath('refresh.before_expiry')).to.equal('refresh.beforeExpiry');
    expect(optionPath('private_key_password_env')).to.equal('privateKeyPasswordEnv');
  });
});
