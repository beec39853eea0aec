/** The CIS Docker Benchmark v1.6.0 checks, in benchmark order: image (section 4), container (5), host (2, 5.1). */
import type { BuiltInCheckClass } from '../../policy/built-in-check.js';
import {
  AddInsteadOfCopyCheck,
  ContainerUserCheck,
  ImageHealthcheckCheck,
  ImageSecretEnvCheck,
  LatestTagCheck,
  UpdateAloneCheck,
} from './image-checks.js';
import { PrivilegedExecCheck, RootExecCheck } from './exec-sessions.js';
import {
  AufsStorageCheck,
  DefaultBridgeIccCheck,
  ExperimentalCheck,
  InsecureRegistryCheck,
  LiveRestoreCheck,
  LoggingDriverCheck,
  SwarmModeCheck,
  UsernsRemapCheck,
} from './host-checks.js';
import { DockerSocketMountCheck, EngineSocketMountCheck, MountPropagationCheck, SensitiveMountCheck } from './mounts.js';
import { HostIpcCheck, HostNetworkCheck, HostPidCheck, HostUsernsCheck, HostUtsCheck } from './namespaces.js';
import { PrivilegedPortCheck, PublishAllPortsCheck, WildcardBindCheck } from './port-checks.js';
import { AddedCapabilitiesCheck, HostDevicesCheck, PrivilegedContainerCheck } from './privileges.js';
import {
  CgroupParentCheck,
  CpuLimitCheck,
  CpuSharesCheck,
  MemoryLimitCheck,
  PidsLimitCheck,
  ReadonlyRootfsCheck,
  UlimitOverrideCheck,
} from './resources.js';
import { ContainerHealthcheckCheck, DefaultBridgeCheck, HealthStatusCheck, RestartPolicyCheck, SshdCheck } from './runtime-behaviour.js';
import { AppArmorProfileCheck, NoNewPrivilegesCheck, SeccompUnconfinedCheck, SelinuxOptionsCheck } from './security-profile-checks.js';

export const CIS_IMAGE_CHECKS = [ImageHealthcheckCheck, UpdateAloneCheck, AddInsteadOfCopyCheck, ImageSecretEnvCheck] as const;

export const CIS_CONTAINER_CHECKS = [
  ContainerUserCheck, // 4.1 (its audit reads the container)
  AppArmorProfileCheck, // 5.2
  SelinuxOptionsCheck, // 5.3
  AddedCapabilitiesCheck, // 5.4
  PrivilegedContainerCheck, // 5.5
  SensitiveMountCheck, // 5.6
  SshdCheck, // 5.7
  PrivilegedPortCheck, // 5.8
  PublishAllPortsCheck, // 5.9
  HostNetworkCheck, // 5.10
  MemoryLimitCheck, // 5.11
  CpuSharesCheck, // 5.12
  ReadonlyRootfsCheck, // 5.13
  WildcardBindCheck, // 5.14
  RestartPolicyCheck, // 5.15
  HostPidCheck, // 5.16
  HostIpcCheck, // 5.17
  HostDevicesCheck, // 5.18
  UlimitOverrideCheck, // 5.19
  MountPropagationCheck, // 5.20
  HostUtsCheck, // 5.21
  SeccompUnconfinedCheck, // 5.22
  PrivilegedExecCheck, // 5.23
  RootExecCheck, // 5.24
  CgroupParentCheck, // 5.25
  NoNewPrivilegesCheck, // 5.26
  ContainerHealthcheckCheck, // 5.27
  PidsLimitCheck, // 5.29
  DefaultBridgeCheck, // 5.30
  HostUsernsCheck, // 5.31
  DockerSocketMountCheck, // 5.32
] as const;

export const CIS_HOST_CHECKS = [
  DefaultBridgeIccCheck, // 2.2
  InsecureRegistryCheck, // 2.5
  AufsStorageCheck, // 2.6
  UsernsRemapCheck, // 2.9
  LoggingDriverCheck, // 2.13
  LiveRestoreCheck, // 2.15
  ExperimentalCheck, // 2.18
  SwarmModeCheck, // 5.1
] as const;

/**
 * House rules beside the CIS checks: each differs from a CIS id's audit (stricter or different), so
 * carries no CIS id (docs/cis-checks.md lists each beside the CIS rule it differs from).
 */
export const CIS_HOUSE_RULES = [CpuLimitCheck, HealthStatusCheck, LatestTagCheck, EngineSocketMountCheck] as const;

/** Every CIS check class, and the house rules beside them, for the built-in registry. */
export const CIS_CHECKS: readonly BuiltInCheckClass[] = [
  ...CIS_IMAGE_CHECKS,
  ...CIS_CONTAINER_CHECKS,
  ...CIS_HOST_CHECKS,
  ...CIS_HOUSE_RULES,
];
