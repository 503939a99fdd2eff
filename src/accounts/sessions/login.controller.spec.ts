import { safeNext } from './login.controller.js';

describe('safeNext', () => {
  it('keeps paths on this site and refuses everything else', () => {
    expect(safeNext('/manage/account/token/')).toBe('/manage/account/token/');
    expect(safeNext('//evil.example/')).toBe('/manage/account/');
    expect(safeNext('/\\evil.example')).toBe('/manage/account/');
    expect(safeNext('https://evil.example/')).toBe('/manage/account/');
    expect(safeNext(undefined)).toBe('/manage/account/');
  });
});
