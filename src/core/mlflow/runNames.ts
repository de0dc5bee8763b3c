import { randomInt } from 'node:crypto';

/** Names like MLflow's own for runs created without one: `<adjective>-<noun>-<number>`. */
const ADJECTIVES = [
  'able', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'daring', 'eager', 'fair', 'fast', 'gentle', 'glad',
  'grand', 'happy', 'honest', 'keen', 'kind', 'lively', 'lucky', 'merry', 'neat', 'noble', 'polite', 'proud', 'quick',
  'quiet', 'rare', 'sharp', 'shy', 'silent', 'smooth', 'steady', 'swift', 'tidy', 'vast', 'warm', 'wise', 'witty', 'zesty',
];
const NOUNS = [
  'ant', 'bass', 'bat', 'bear', 'bee', 'bird', 'carp', 'cat', 'colt', 'crab', 'crow', 'deer', 'doe', 'dove', 'duck',
  'eel', 'elk', 'finch', 'fox', 'frog', 'goat', 'hare', 'hawk', 'hen', 'horse', 'jay', 'koi', 'lamb', 'lark', 'lynx',
  'mole', 'moth', 'mouse', 'newt', 'owl', 'ox', 'panda', 'robin', 'seal', 'shark', 'sloth', 'snail', 'stork', 'swan',
  'toad', 'trout', 'whale', 'wolf', 'wren', 'yak',
];

export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
