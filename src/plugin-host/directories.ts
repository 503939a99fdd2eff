/**
 * Read-only views of the core's accounts and projects for plugins, behind tokens so plugins
 * never import the entities. The accounts and projects features provide the real ones; until
 * they are wired (see plugin-host.module.ts) the defaults below know nobody.
 */
export interface AccountDirectory {
  /** The account's primary, verified e-mail address, or `null` when it has none. */
  primaryEmail(userId: string): Promise<string | null>;
  /** Ids of the accounts that manage the project (owners and maintainers). */
  projectMaintainers(projectId: string): Promise<string[]>;
}
export const ACCOUNT_DIRECTORY = Symbol('larder.account-directory');

export interface ProjectRoles {
  /** The user's role on the project (`Owner`, `Maintainer`), or `null`. */
  roleOf(userId: string, projectNormalizedName: string): Promise<string | null>;
}
export const PROJECT_ROLES = Symbol('larder.project-roles');

export const emptyAccountDirectory: AccountDirectory = {
  primaryEmail: async () => null,
  projectMaintainers: async () => [],
};

export const emptyProjectRoles: ProjectRoles = { roleOf: async () => null };
