<?php
// The platform requirements of a PHP app, checked with Composer's own
// constraint rules (composer/semver, which Debian's composer package ships).
//
//   php platform.php PHP_VERSION EXTENSION...
//
// Reads composer.json and composer.lock in the working directory: the root
// `require` and, from the lock, `platform` and every installed package's
// `require` (`require-dev` is skipped: the build runs `composer install
// --no-dev`). Prints one tab-separated line per requirement:
//
//   php  ok|fail  CONSTRAINT  SOURCE
//   ext  ok|fail  NAME        SOURCE
//
// and exits 2 with a message when a file is not valid JSON.

foreach (['/usr/share/php/Composer/Semver/autoload.php', '/usr/share/php/Composer/autoload.php'] as $autoload) {
    if (is_file($autoload)) {
        require $autoload;
        break;
    }
}

use Composer\Semver\Semver;

$version = $argv[1];
$available = array_map('strtolower', array_slice($argv, 2));

function read_json(string $file): ?array
{
    if (!is_file($file)) {
        return null;
    }
    $data = json_decode(file_get_contents($file), true);
    if (!is_array($data)) {
        fwrite(STDERR, "$file is not a valid JSON object: " . json_last_error_msg() . "\n");
        exit(2);
    }
    return $data;
}

/** @var list<array{string, string, string}> $requirements [kind, what, source] */
$requirements = [];
// $where names the place, with %s for the requirement: `composer.json require.%s`.
function collect(array &$requirements, $require, string $where): void
{
    if (!is_array($require)) {
        return;
    }
    foreach ($require as $name => $constraint) {
        $name = strtolower((string) $name);
        if ($name === 'php' || $name === 'php-64bit') {
            $requirements[] = ['php', (string) $constraint, sprintf($where, $name)];
        } elseif (str_starts_with($name, 'ext-')) {
            $requirements[] = ['ext', substr($name, 4), sprintf($where, $name)];
        }
    }
}

$json = read_json('composer.json');
$lock = read_json('composer.lock');
collect($requirements, $json['require'] ?? [], 'composer.json require.%s');
if ($lock !== null) {
    collect($requirements, $lock['platform'] ?? [], 'composer.lock platform.%s');
    foreach ($lock['packages'] ?? [] as $package) {
        if (is_array($package) && isset($package['name'])) {
            $name = str_replace('%', '%%', (string) $package['name']);
            collect($requirements, $package['require'] ?? [], "composer.lock: package $name requires %s");
        }
    }
}

$seen = [];
foreach ($requirements as [$kind, $what, $source]) {
    if (isset($seen["$kind\t$what"])) {
        continue;  // the first source (composer.json, then the lock) is the one to name
    }
    $seen["$kind\t$what"] = true;
    if ($kind === 'php') {
        try {
            $ok = Semver::satisfies($version, $what);
        } catch (UnexpectedValueException $e) {
            $ok = false;
        }
    } else {
        $ok = in_array($what, $available, true);
    }
    $line = str_replace(["\t", "\n"], ' ', $what);
    echo "$kind\t" . ($ok ? 'ok' : 'fail') . "\t$line\t$source\n";
}
