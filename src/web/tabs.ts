import { Injectable } from '@nestjs/common';

/**
 * The tab extension point. A page declares which tab set it shows (`account`, `project`,
 * `admin`); modules and plugins contribute tabs to a set, and the page renders whatever is
 * contributed and visible to the viewer — so a new tab never touches the page.
 */
export type TabSet = 'account' | 'project' | 'admin';

/** What a tab's permission is checked against. */
export interface TabViewer {
  user: { id: string; username: string; isAdmin: boolean } | null;
  /** The viewer's role on the project shown (`Owner`, `Maintainer`), on project pages. */
  projectRole?: string | null;
}

export type TabPermission =
  'signed-in' | 'admin' | 'project-owner' | 'project-maintainer' | ((viewer: TabViewer) => boolean);

export interface TabContribution {
  set: TabSet;
  /** Unique within the set; a page marks its own tab active by this id. */
  id: string;
  title: string;
  /** Path, where `:project` is replaced by the project's normalised name on project pages. */
  path: string;
  /** Lower comes first; core tabs use multiples of 10. */
  order?: number;
  permission?: TabPermission;
  /** Who contributed it (`core` or a plugin's name), for `larder plugins list`. */
  owner?: string;
}

export interface RenderedTab {
  id: string;
  title: string;
  href: string;
  active: boolean;
}

export function allows(permission: TabPermission | undefined, viewer: TabViewer): boolean {
  if (typeof permission === 'function') return permission(viewer);
  switch (permission) {
    case undefined:
    case 'signed-in':
      return viewer.user !== null;
    case 'admin':
      return viewer.user?.isAdmin === true;
    case 'project-owner':
      return viewer.user !== null && viewer.projectRole === 'Owner';
    case 'project-maintainer':
      return (
        viewer.user !== null &&
        (viewer.projectRole === 'Owner' || viewer.projectRole === 'Maintainer')
      );
  }
}

@Injectable()
export class TabRegistry {
  private readonly tabs = new Map<TabSet, TabContribution[]>();

  contribute(tab: TabContribution): void {
    const list = this.tabs.get(tab.set) ?? [];
    if (list.some((existing) => existing.id === tab.id)) {
      throw new Error(`tab "${tab.id}" is already contributed to the ${tab.set} tab set`);
    }
    list.push(tab);
    list.sort((a, b) => (a.order ?? 100) - (b.order ?? 100) || a.id.localeCompare(b.id));
    this.tabs.set(tab.set, list);
  }

  find(set: TabSet, id: string): TabContribution | undefined {
    return this.tabs.get(set)?.find((tab) => tab.id === id);
  }

  contributions(set?: TabSet): TabContribution[] {
    return set ? [...(this.tabs.get(set) ?? [])] : [...this.tabs.values()].flat();
  }

  /** The tabs of `set` that `viewer` may see, with `active` marking the page's own tab. */
  render(
    set: TabSet,
    viewer: TabViewer,
    active: string,
    params: { project?: string } = {},
  ): RenderedTab[] {
    return (this.tabs.get(set) ?? [])
      .filter((tab) => allows(tab.permission, viewer))
      .map((tab) => ({
        id: tab.id,
        title: tab.title,
        href: tab.path.replace(':project', encodeURIComponent(params.project ?? '')),
        active: tab.id === active,
      }));
  }
}
