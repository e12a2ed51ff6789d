// What the bundles use for Chevrotain's token type helpers (src/tools/build.mjs puts this module in
// place of node_modules/chevrotain/lib/src/scan/tokens.js; the tests and anything run from the
// sources keep Chevrotain's own).
//
// Why: every createToken() (48 for the grammar, a few in Chevrotain itself) and the parser's
// constructor run augmentTokenTypes(), which Chevrotain writes with lodash (has(), which parses its
// key as a property path, clone, compact, flatten, difference...). Run once in a fresh process that
// was 3.5 ms of a command typed in a profile (about 1 ms timed in-process) and 230 KB of garbage
// (bench/README.md, "Twenty-seventh session"); the same steps in plain loops take a fraction of it. (Indexed loops: in a process this young, a
// for-of loop allocates a result object for every element it visits.)
//
// The same as the original (Chevrotain 11.2), export for export: the same token type indexes in the
// same order, the same properties with the same values (categories expanded as lodash's
// difference() does, duplicates kept; category matches in the map's key order), the same
// tokenIdxToClass. test/build-substitutes.test.ts holds the two to each other.
const own = (o, k) => o != null && Object.prototype.hasOwnProperty.call(o, k);

export function tokenStructuredMatcher(tokInstance, tokConstructor) {
  const instanceType = tokInstance.tokenTypeIdx;
  if (instanceType === tokConstructor.tokenTypeIdx) return true;
  return tokConstructor.isParent === true && tokConstructor.categoryMatchesMap[instanceType] === true;
}

export function tokenStructuredMatcherNoCategories(token, tokType) {
  return token.tokenTypeIdx === tokType.tokenTypeIdx;
}

export let tokenShortNameIdx = 1;
export const tokenIdxToClass = {};

export function augmentTokenTypes(tokenTypes) {
  const tokenTypesAndParents = expandCategories(tokenTypes);
  assignTokenDefaultProps(tokenTypesAndParents);
  assignCategoriesMapProp(tokenTypesAndParents);
  assignCategoriesTokensProp(tokenTypesAndParents);
  for (let i = 0; i < tokenTypesAndParents.length; i++) tokenTypesAndParents[i].isParent = tokenTypesAndParents[i].categoryMatches.length > 0;
}

export function expandCategories(tokenTypes) {
  let result = tokenTypes.slice();
  let categories = tokenTypes;
  for (;;) {
    // compact(flatten(map(categories, (t) => t.CATEGORIES))): one level flattened, falsy values dropped
    const next = [];
    for (let i = 0; i < categories.length; i++) {
      const c = categories[i].CATEGORIES;
      if (Array.isArray(c)) {
        for (let j = 0; j < c.length; j++) if (c[j]) next.push(c[j]);
      } else if (c) next.push(c);
    }
    // difference(next, result): what result lacks, duplicates of it kept
    const newCategories = next.filter((x) => !result.includes(x));
    result = result.concat(newCategories);
    if (newCategories.length === 0) return result;
    categories = newCategories;
  }
}

export function assignTokenDefaultProps(tokenTypes) {
  for (let i = 0; i < tokenTypes.length; i++) {
    const currTokType = tokenTypes[i];
    if (!own(currTokType, 'tokenTypeIdx')) {
      tokenIdxToClass[tokenShortNameIdx] = currTokType;
      currTokType.tokenTypeIdx = tokenShortNameIdx++;
    }
    if (own(currTokType, 'CATEGORIES') && !Array.isArray(currTokType.CATEGORIES)) currTokType.CATEGORIES = [currTokType.CATEGORIES];
    if (!own(currTokType, 'CATEGORIES')) currTokType.CATEGORIES = [];
    if (!own(currTokType, 'categoryMatches')) currTokType.categoryMatches = [];
    if (!own(currTokType, 'categoryMatchesMap')) currTokType.categoryMatchesMap = {};
  }
}

export function assignCategoriesTokensProp(tokenTypes) {
  for (let i = 0; i < tokenTypes.length; i++) {
    const currTokType = tokenTypes[i];
    const keys = Object.keys(currTokType.categoryMatchesMap);
    currTokType.categoryMatches = [];
    for (let j = 0; j < keys.length; j++) currTokType.categoryMatches.push(tokenIdxToClass[keys[j]].tokenTypeIdx);
  }
}

export function assignCategoriesMapProp(tokenTypes) {
  for (let i = 0; i < tokenTypes.length; i++) singleAssignCategoriesToksMap([], tokenTypes[i]);
}

export function singleAssignCategoriesToksMap(path, nextNode) {
  for (let i = 0; i < path.length; i++) nextNode.categoryMatchesMap[path[i].tokenTypeIdx] = true;
  const categories = nextNode.CATEGORIES;
  if (!Array.isArray(categories)) return;
  for (let i = 0; i < categories.length; i++) {
    const newPath = path.concat(nextNode);
    // avoids infinite loops due to cyclic categories
    if (!newPath.includes(categories[i])) singleAssignCategoriesToksMap(newPath, categories[i]);
  }
}

export function hasShortKeyProperty(tokType) {
  return own(tokType, 'tokenTypeIdx');
}

export function hasCategoriesProperty(tokType) {
  return own(tokType, 'CATEGORIES');
}

export function hasExtendingTokensTypesProperty(tokType) {
  return own(tokType, 'categoryMatches');
}

export function hasExtendingTokensTypesMapProperty(tokType) {
  return own(tokType, 'categoryMatchesMap');
}

export function isTokenType(tokType) {
  return own(tokType, 'tokenTypeIdx');
}
