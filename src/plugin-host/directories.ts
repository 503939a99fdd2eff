/**
 * A read-only view of the core's accounts for plugins, behind a token so plugins never import
 * the entities. The accounts feature provides it (src/accounts/account-directory.ts).
 */
export interface AccountDirectory {
  /** The account's primary, verified e-mail address, or `null` when it has none. */
  primaryEmail(userId: string): Promise<string | null>;
  /** Ids of the accounts that manage the project (owners and maintainers). */
  projectMaintainers(projectId: string): Promise<string[]>;
  /** Usernames of the given accounts (those that still exist), by id. */
  usernames(userIds: string[]): Promise<Map<string, string>>;
  /** The projects on which the account holds the Owner role. */
  ownedProjects(
    userId: string,
  ): Promise<Array<{ id: string; name: string; normalizedName: string }>>;
}
export const ACCOUNT_DIRECTORY = Symbol('larder.account-directory');
