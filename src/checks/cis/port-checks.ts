import { builtInCheck } from '../../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';
import { formatBinding, portMatcher, publishedPorts, splitContainerPort } from './published-ports.js';

/** Addresses that listen on every interface: IPv4, IPv6, and the empty address older engines report. */
const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '']);

/** CIS 5.8: no host port below 1024 is published (docker-bench also flags 1024, which is not privileged). */
export class PrivilegedPortCheck extends builtInCheck({
  description: 'no privileged host port (below 1024) is published',
  remediation: 'Publish the service on a host port of 1024 or above (-p 8080:80).',
  severity: 'medium',
  cisId: '5.8',
  inputs: ['inspect'],
  options: {
    allowed_ports: {
      type: 'list',
      default: [],
      description: 'host ports below 1024 that may be published (e.g. 80, 443/tcp)',
    },
  },
}) {
  private readonly allowed = portMatcher('allowed_ports', this.config.allowed_ports);

  check({ inspect }: ContainerView): CheckReturn {
    const privileged = publishedPorts(inspect).filter(
      (binding) =>
        binding.hostPort > 0 &&
        binding.hostPort < 1024 &&
        !this.allowed(binding.hostPort, splitContainerPort(binding.containerPort).protocol),
    );
    if (privileged.length === 0) return this.PASS;
    return this.fail(`publishes ${privileged.map(formatBinding).join(', ')}`);
  }
}

/**
 * CIS 5.9: only needed ports are published. `-P` publishes every port the image exposes, needed or
 * not, and fails; with `allowed_ports` set, a published container port not listed fails too.
 */
export class PublishAllPortsCheck extends builtInCheck({
  description: 'only needed ports are published (no --publish-all)',
  remediation: 'Replace --publish-all (-P) with -p for the ports the service needs.',
  severity: 'low',
  cisId: '5.9',
  inputs: ['inspect'],
  options: {
    allowed_ports: {
      type: 'list',
      default: [],
      description: 'container ports that may be published (e.g. 8080, 53/udp); empty: any port published one by one',
    },
  },
}) {
  private readonly allowedList = this.config.allowed_ports;
  private readonly allowed = portMatcher('allowed_ports', this.allowedList);

  check({ inspect }: ContainerView): CheckReturn {
    if (inspect.HostConfig?.PublishAllPorts === true) return this.fail('publishes every exposed port (--publish-all)');
    if (this.allowedList.length === 0) return this.PASS;
    const unneeded = publishedPorts(inspect).filter((binding) => {
      const { port, protocol } = splitContainerPort(binding.containerPort);
      return !this.allowed(port, protocol);
    });
    if (unneeded.length === 0) return this.PASS;
    return this.fail(`publishes ports not in allowed_ports: ${unneeded.map(formatBinding).join(', ')}`);
  }
}

/** CIS 5.14: published ports are bound to a specific address, not to every interface (IPv4 or IPv6). */
export class WildcardBindCheck extends builtInCheck({
  description: 'published ports are bound to a specific host address',
  remediation: 'Bind published ports to one host address (-p 127.0.0.1:8080:80) instead of every interface.',
  severity: 'medium',
  cisId: '5.14',
  inputs: ['inspect'],
  options: {
    allowed_ports: {
      type: 'list',
      default: [],
      description: 'host ports that may listen on every interface (e.g. 443 of an ingress proxy)',
    },
  },
}) {
  private readonly allowed = portMatcher('allowed_ports', this.config.allowed_ports);

  check({ inspect }: ContainerView): CheckReturn {
    const wildcard = publishedPorts(inspect).filter(
      (binding) => WILDCARDS.has(binding.hostIp) && !this.allowed(binding.hostPort, splitContainerPort(binding.containerPort).protocol),
    );
    if (wildcard.length === 0) return this.PASS;
    return this.fail(`bound to every interface: ${wildcard.map(formatBinding).join(', ')}`);
  }
}
