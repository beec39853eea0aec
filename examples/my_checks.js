/**
 * Your own checks, in plain JavaScript: the CFPB Docker Monitor README's `MyPolicyCheck`, and a check
 * with declared options. Name them in the policy file as `[my_checks.<ClassName>]`; `my_checks` is found
 * next to the policy file (see my-policy.ini).
 *
 * A check class need not extend anything: docker-monitor gives every instance `this.config` (the
 * section's keys) and the verdicts `this.PASS`, `this.PASS_FAST` and `this.FAIL`, as the Python
 * tool's `PolicyCheck` did. `check(container)` receives a ContainerView (`container.inspect` is the
 * Engine API's inspect JSON) and may be async.
 */

/** The README's example: the verdict comes from the section's `pass` key. */
export class MyPolicyCheck {
  static description = 'my custom policy check';

  check(container) {
    if (this.config.pass === 'pass') {
      return this.PASS;
    } else if (this.config.pass === 'pass fast') {
      // The README wrote "past fast", a typo that made PASS_FAST unreachable.
      return this.PASS_FAST;
    }
    return this.FAIL;
  }
}

/**
 * FAIL when a container lacks one of the labels named in `labels`. Declaring `options` makes
 * docker-monitor check the keys (a typo is an error naming file, section and key) and parse the values.
 */
export class RequiredLabelsCheck {
  static description = 'the container carries every required label';
  static options = {
    labels: { type: 'list', required: true, description: 'labels every container must carry' },
  };

  check(container) {
    const present = container.inspect.Config?.Labels ?? {};
    const missing = this.config.labels.filter((label) => !(label in present));
    if (missing.length === 0) return this.PASS;
    return { result: 'fail', reason: `missing label${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}` };
  }
}

/**
 * FAIL when a container publishes more than `max` ports. It brings its own metric: the exporter fills
 * `my_published_ports{container}` from the `data` of each result, with no other wiring.
 */
export class OpenPortsCheck {
  static description = 'the container publishes at most `max` ports';
  static options = {
    max: { type: 'integer', default: 0, description: 'most ports a container may publish' },
  };
  static metrics = [
    {
      name: 'my_published_ports',
      help: 'Ports the container publishes.',
      labelNames: ['container'],
      samples: (data, container) => [{ labels: { container: container.name }, value: data.ports }],
    },
  ];

  check(container) {
    const ports = Object.keys(container.inspect.HostConfig?.PortBindings ?? {}).length;
    const data = { ports };
    if (ports <= this.config.max) return { result: 'pass', data };
    return { result: 'fail', reason: `${ports} published port${ports === 1 ? '' : 's'} (at most ${this.config.max})`, data };
  }
}
